"""Merging one organisation into another, keeping its history readable.

The absorbed organisation becomes a unit of the target, named after it: its people are
placed in that unit (or stay in its units, which move below it), so that its referents
keep exactly the scope they had (referents of the whole organisation become referents
of that unit, never of the whole target) and the target's dashboards can still be read
for the former organisation. Its row stays, deactivated and renamed
"<name> (unità in <target>)", with an audit entry in both organisations' logs.

Every other row pointing at the absorbed organisation moves to the target, found
generically: every foreign key to ``lms_organisation.id`` in the metadata (the core's
and the plugins' tables alike). Where a unique constraint would let a row collide with
one of the target's, the foreign key's declared ``ondelete`` says what the owner of the
table accepts losing: CASCADE rows are dropped (the target's row stands), SET NULL rows
are detached; RESTRICT refuses the merge, with the table named. The audit log is
history, never rewritten: its entries keep the organisation where the action happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lms import audit, clock
from lms.accounts.models import User
from lms.errors import ServiceError
from lms.i18n import lazy_gettext as _l
from lms.organisations.models import (
    UNIT_PATH_LENGTH,
    Membership,
    Organisation,
    OrganisationUnit,
)
from lms.organisations.org_references import (
    Handling,
    collisions,
    organisation_references,
    repoint,
)
from lms.organisations.units import UNIT_NAME_LENGTH, create_unit

#: Tables that record where something happened: their rows keep the absorbed id.
HISTORY_TABLES = frozenset({"lms_audit_entry"})
#: Tables the merge handles itself (people's memberships, the unit tree).
OWN_TABLES = frozenset({Membership.__tablename__, OrganisationUnit.__tablename__})

# What the confirmation calls the tables it knows; any other table is named as it is.
TABLE_LABELS = {
    "certificates_certificate": _l("Attestati"),
    "commitments_commitment": _l("Impegni formativi"),
    "commitments_digest": _l("Riepiloghi mensili inviati"),
    "lms_job": _l("Attività in background"),
    "lms_registration_rule": _l("Regole di auto-registrazione"),
    "lms_registration_request": _l("Richieste di registrazione"),
}
TABLE_NOTES = {
    "commitments_commitment": _l(
        "Gli impegni formativi dell'ente assorbito varranno per tutto l'ente di "
        "destinazione: controllali dopo l'unione."
    ),
}


@dataclass(frozen=True)
class TableRows:
    table: str
    label: str
    rows: int
    colliding: int
    handling: str
    note: str | None = None


@dataclass(frozen=True)
class MergePlan:
    """What merging ``absorbed`` into ``target`` would move, counted before doing it."""

    absorbed: Organisation
    target: Organisation
    current_members: int
    former_members: int
    people_in_both: int
    referents: int
    units: int
    unit_name: str
    tables: list[TableRows] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "current_members": self.current_members,
            "former_members": self.former_members,
            "people_in_both": self.people_in_both,
            "referents": self.referents,
            "units": self.units,
        }


MERGED_INTO = "organisation.merged_into"


def _check(session: Session, absorbed: Organisation, target: Organisation) -> None:
    if absorbed.id == target.id:
        raise ServiceError(_("Un ente non si può unire a sé stesso."))
    if not target.active:
        raise ServiceError(_("L'ente di destinazione è disattivato: riattivalo prima."))
    merged = session.scalar(  # a double submit: the first merge left its entry
        select(audit.AuditEntry.id)
        .where(
            audit.AuditEntry.action == MERGED_INTO,
            audit.AuditEntry.organisation_id == absorbed.id,
        )
        .limit(1)
    )
    if merged is not None:
        raise ServiceError(_("%(name)s è già stato unito a un altro ente.", name=absorbed.name))


def _count(session: Session, stmt: Any) -> int:
    return int(session.scalar(stmt) or 0)


def _unit_name(session: Session, absorbed: Organisation, target: Organisation) -> str:
    """The absorbed organisation's name, with its code when a top-level unit of the
    target already has that name."""

    def taken(name: str) -> bool:
        return (
            session.scalar(
                select(OrganisationUnit.id).where(
                    OrganisationUnit.organisation_id == target.id,
                    OrganisationUnit.parent_id.is_(None),
                    OrganisationUnit.closed_at.is_(None),
                    func.lower(OrganisationUnit.name) == name.lower(),
                )
            )
            is not None
        )

    name = absorbed.name[:UNIT_NAME_LENGTH]
    if taken(name):
        suffix = f" ({absorbed.code})"
        name = absorbed.name[: UNIT_NAME_LENGTH - len(suffix)] + suffix
    return name


def plan_merge(session: Session, absorbed: Organisation, target: Organisation) -> MergePlan:
    _check(session, absorbed, target)
    in_absorbed = Membership.organisation_id == absorbed.id
    both = select(Membership.user_id).where(Membership.organisation_id == target.id)
    tables, refusals = [], []
    for ref in organisation_references():
        name = ref.table.name
        if name in OWN_TABLES or name in HISTORY_TABLES:
            continue
        rows = _count(
            session, select(func.count()).select_from(ref.table).where(ref.column == absorbed.id)
        )
        if not rows:
            continue
        colliding = 0
        for others in ref.unique_sets:
            colliding += _count(
                session,
                select(func.count())
                .select_from(ref.table)
                .where(collisions(ref, others, absorbed.id, target.id)),
            )
        if colliding and ref.handling == Handling.REFUSE:
            refusals.append(
                _(
                    "%(count)d righe della tabella %(table)s dell'ente assorbito coincidono "
                    "con righe dell'ente di destinazione e la tabella non ne consente la "
                    "rimozione: risolvi prima a mano.",
                    count=colliding,
                    table=name,
                )
            )
        label = TABLE_LABELS.get(name)
        note = TABLE_NOTES.get(name)
        tables.append(
            TableRows(
                table=name,
                label=str(label) if label else name,
                rows=rows,
                colliding=colliding,
                handling=ref.handling,
                note=str(note) if note else None,
            )
        )
    deepest = _count(
        session,
        select(func.max(func.length(OrganisationUnit.path))).where(
            OrganisationUnit.organisation_id == absorbed.id
        ),
    )
    if deepest and deepest + 12 > UNIT_PATH_LENGTH:
        refusals.append(_("L'albero delle unità è troppo profondo."))
    return MergePlan(
        absorbed=absorbed,
        target=target,
        current_members=_count(
            session,
            select(func.count(Membership.id)).where(in_absorbed, Membership.ended_at.is_(None)),
        ),
        former_members=_count(
            session,
            select(func.count(Membership.id)).where(in_absorbed, Membership.ended_at.is_not(None)),
        ),
        people_in_both=_count(
            session,
            select(func.count(Membership.id)).where(in_absorbed, Membership.user_id.in_(both)),
        ),
        referents=_count(
            session,
            select(func.count(Membership.id)).where(
                in_absorbed, Membership.ended_at.is_(None), Membership.is_referent.is_(True)
            ),
        ),
        units=_count(
            session,
            select(func.count(OrganisationUnit.id)).where(
                OrganisationUnit.organisation_id == absorbed.id
            ),
        ),
        unit_name=_unit_name(session, absorbed, target),
        tables=tables,
        refusals=refusals,
    )


@dataclass(frozen=True)
class MergeResult:
    plan: MergePlan
    unit: OrganisationUnit
    dropped: int  # colliding rows removed or detached in other tables
    referent_scopes_lost: list[int]  # people referents in both: the target's role kept


def merge_organisations(
    session: Session,
    absorbed: Organisation,
    target: Organisation,
    *,
    actor: User | None = None,
) -> MergeResult:
    """Move everything of ``absorbed`` into ``target`` (see the module's docstring).

    Refused whole (``ServiceError``, nothing written) when the plan has refusals. The
    caller commits.
    """
    # Two admins (or a double click) merging at once: the second waits here, then finds
    # the first's audit entry and is refused (PostgreSQL; SQLite's writers queue anyway).
    session.execute(
        select(Organisation.id)
        .where(Organisation.id.in_([absorbed.id, target.id]))
        .order_by(Organisation.id)
        .with_for_update()
    ).all()
    plan = plan_merge(session, absorbed, target)
    if plan.refusals:
        raise ServiceError(plan.refusals[0], details=plan.refusals[1:])
    original_name = absorbed.name
    unit = create_unit(session, target, plan.unit_name, actor=actor)
    _move_units(session, absorbed, unit)
    lost = _merge_memberships(session, absorbed, target, unit, actor=actor)
    references = [
        ref
        for ref in organisation_references()
        if ref.table.name not in OWN_TABLES and ref.table.name not in HISTORY_TABLES
    ]
    dropped, moved = repoint(session, references, absorbed.id, target.id, unit.id)
    absorbed.name = _retired_name(session, absorbed, target)
    absorbed.active = False
    session.flush()
    details: dict[str, Any] = {
        "absorbed_id": absorbed.id,
        "target_id": target.id,
        "absorbed_name": original_name,
        "absorbed_code": absorbed.code,
        "target_name": target.name,
        "unit_id": unit.id,
        **plan.counts(),
        "tables": ", ".join(f"{name}={n}" for name, n in sorted(moved.items())),
        "colliding_rows_dropped": dropped,
        "referent_scopes_lost": len(lost),
    }
    for action, organisation_id in (
        ("organisation.merged", target.id),
        (MERGED_INTO, absorbed.id),
    ):
        audit.record(
            session,
            action,
            actor=actor,
            organisation_id=organisation_id,
            object_type="organisation",
            object_id=absorbed.id,
            details=details,
        )
    session.expire_all()
    return MergeResult(plan=plan, unit=unit, dropped=dropped, referent_scopes_lost=lost)


def _move_units(session: Session, absorbed: Organisation, unit: OrganisationUnit) -> None:
    """The absorbed organisation's tree, whole, below ``unit``: one prefix on every path."""
    in_absorbed = OrganisationUnit.organisation_id == absorbed.id
    session.execute(
        update(OrganisationUnit)
        .where(in_absorbed, OrganisationUnit.parent_id.is_(None))
        .values(parent_id=unit.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OrganisationUnit)
        .where(in_absorbed)
        .values(
            path=unit.path.rstrip("/") + OrganisationUnit.path,
            organisation_id=unit.organisation_id,
        )
        .execution_options(synchronize_session=False)
    )


def _merge_memberships(
    session: Session,
    absorbed: Organisation,
    target: Organisation,
    unit: OrganisationUnit,
    *,
    actor: User | None,
) -> list[int]:
    """One membership per person: people in both keep the earlier row, current if either
    was, placed where a referent role survives; everyone else moves, in ``unit`` when
    they were placed in the absorbed organisation as a whole."""
    twins = {
        m.user_id: m
        for m in session.scalars(
            select(Membership).where(
                Membership.organisation_id == target.id,
                Membership.user_id.in_(
                    select(Membership.user_id).where(Membership.organisation_id == absorbed.id)
                ),
            )
        )
    }
    theirs = {
        m.user_id: m
        for m in session.scalars(
            select(Membership).where(
                Membership.organisation_id == absorbed.id,
                Membership.user_id.in_(list(twins)),
            )
        )
    }
    lost: list[int] = []
    items = []
    for user_id, ours in twins.items():
        other = theirs[user_id]
        other_unit = other.unit_id or unit.id
        keep, drop = (other, ours) if other.created_at < ours.created_at else (ours, other)
        # Whose placement (unit, referent role, profile) the person keeps: a current
        # referent's first, the target's before the absorbed one's.
        current = [m for m in (ours, other) if m.ended_at is None]
        source = next((m for m in current if m.is_referent), current[0] if current else keep)
        if len(current) == 2 and ours.is_referent and other.is_referent:
            lost.append(user_id)
        place = (other_unit if source is other else source.unit_id, source.is_referent)
        audience_id, ended = source.audience_id, None
        if not current:
            ended = max(ours.ended_at, other.ended_at)  # type: ignore[type-var]
        items.append(
            audit.Item(
                object_id=keep.id,
                subject_id=user_id,
                details={
                    "kept_membership_id": keep.id,
                    "dropped_membership_id": drop.id,
                    "dropped_created_at": drop.created_at.isoformat(),
                    "absorbed_id": absorbed.id,
                    "referent_scope_lost": user_id in lost,
                },
            )
        )
        session.delete(drop)
        session.flush()  # the (person, organisation) pair is free before ``keep`` takes it
        keep.organisation_id = target.id
        keep.unit_id, keep.is_referent = place
        keep.audience_id, keep.ended_at = audience_id, ended
    session.flush()
    session.execute(
        update(Membership)
        .where(Membership.organisation_id == absorbed.id)
        .values(
            organisation_id=target.id,
            unit_id=func.coalesce(Membership.unit_id, unit.id),
        )
        .execution_options(synchronize_session=False)
    )
    audit.record_many(
        session,
        "organisations.membership_merged",
        items,
        actor=actor,
        organisation_id=target.id,
        object_type="membership",
    )
    return lost


def _retired_name(session: Session, absorbed: Organisation, target: Organisation) -> str:
    """ "<name> (unità in <target>)", within the column and unique among organisations."""
    suffix = _(" (unità in %(target)s)", target=target.name)
    name = absorbed.name[: max(0, 255 - len(suffix))] + suffix
    clash = session.scalar(
        select(Organisation.id).where(
            func.lower(Organisation.name) == name.lower(), Organisation.id != absorbed.id
        )
    )
    if clash is not None:
        stamp = f" [{absorbed.code} {clock.today().isoformat()}]"
        name = name[: 255 - len(stamp)] + stamp
    return name[:255]
