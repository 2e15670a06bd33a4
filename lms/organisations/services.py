"""Organisation registry, memberships and staff invitations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from lms import audit, clock, yamlsafe
from lms.accounts import services as accounts
from lms.accounts.emails import normalise_email
from lms.accounts.models import User
from lms.errors import NotFound, ServiceError
from lms.organisations.models import Audience, Membership, Organisation, OrganisationType
from lms.text import single_line

REGISTRY_FILE = Path(__file__).with_name("registry.yaml")


@dataclass(frozen=True)
class SeedReport:
    audiences_created: int
    organisations_created: int
    organisations_updated: int


def load_registry(path: Path = REGISTRY_FILE) -> dict[str, Any]:
    """The signatories' registry, read within the same limits as every other YAML."""
    return yamlsafe.load(path.read_text(encoding="utf-8"), file=path.name)


def seed_registry(db: Session, registry: dict[str, Any] | None = None) -> SeedReport:
    """Insert or update audiences and organisations by code; never delete."""
    registry = registry or load_registry()
    audiences_created = orgs_created = orgs_updated = 0
    existing_audiences = {a.code: a for a in db.scalars(select(Audience))}
    for entry in registry["audiences"]:
        audience = existing_audiences.get(entry["code"])
        if audience is None:
            db.add(Audience(code=entry["code"], name_it=entry["it"], name_en=entry["en"]))
            audiences_created += 1
        else:
            audience.name_it, audience.name_en = entry["it"], entry["en"]

    existing_orgs = {o.code: o for o in db.scalars(select(Organisation))}
    for type_name, entries in registry["organisations"].items():
        org_type = OrganisationType(type_name)
        for entry in entries:
            org = existing_orgs.get(entry["code"])
            signatory = bool(entry.get("signatory", True))
            if org is None:
                db.add(
                    Organisation(
                        code=entry["code"],
                        name=entry["name"],
                        type=org_type.value,
                        signatory=signatory,
                    )
                )
                orgs_created += 1
            elif (org.name, org.type, org.signatory) != (entry["name"], org_type.value, signatory):
                org.name, org.type, org.signatory = entry["name"], org_type.value, signatory
                orgs_updated += 1
    db.flush()
    return SeedReport(audiences_created, orgs_created, orgs_updated)


def get_organisation(db: Session, organisation_id: int) -> Organisation:
    org = db.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(_("Organizzazione non trovata."))
    return org


def organisation_by_code(db: Session, code: str) -> Organisation:
    org = db.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(_("Organizzazione non trovata: %(code)s", code=code))
    return org


def audience_by_code(db: Session, code: str) -> Audience:
    audience = db.scalar(select(Audience).where(Audience.code == code))
    if audience is None:
        raise ServiceError(_("Pubblico sconosciuto: %(code)s", code=code))
    return audience


def list_audiences(db: Session) -> list[Audience]:
    return list(db.scalars(select(Audience).order_by(Audience.name_it)))


@dataclass(frozen=True)
class OrganisationSummary:
    organisation: Organisation
    staff_count: int


def list_organisations(db: Session, only_ids: set[int] | None = None) -> list[OrganisationSummary]:
    """Organisations with their current staff count, in one query."""
    staff = (
        select(Membership.organisation_id, func.count(Membership.id).label("n"))
        .where(Membership.ended_at.is_(None))
        .group_by(Membership.organisation_id)
        .subquery()
    )
    stmt = (
        select(Organisation, func.coalesce(staff.c.n, 0))
        .outerjoin(staff, staff.c.organisation_id == Organisation.id)
        .order_by(Organisation.type, Organisation.name)
    )
    if only_ids is not None:
        stmt = stmt.where(Organisation.id.in_(only_ids))
    return [OrganisationSummary(org, int(n)) for org, n in db.execute(stmt)]


def current_members(db: Session, organisation_id: int) -> list[Membership]:
    stmt = (
        select(Membership)
        .join(Membership.user)
        .where(Membership.organisation_id == organisation_id, Membership.ended_at.is_(None))
        .options(joinedload(Membership.user), joinedload(Membership.audience))
        .order_by(User.full_name)
    )
    return list(db.scalars(stmt))


def memberships_of(db: Session, user_id: int) -> list[Membership]:
    stmt = (
        select(Membership)
        .where(Membership.user_id == user_id, Membership.ended_at.is_(None))
        .options(joinedload(Membership.organisation), joinedload(Membership.audience))
    )
    return list(db.scalars(stmt))


def add_member(
    db: Session,
    organisation: Organisation,
    *,
    email: str,
    full_name: str,
    audience_code: str,
    is_referent: bool = False,
    actor: User | None = None,
) -> tuple[Membership, bool]:
    """Add a person to an organisation, creating the account if needed.

    Returns the membership and whether the account is new (and so needs an
    invitation). A former member is re-activated, keeping the same row.
    """
    audience = audience_by_code(db, audience_code)
    user = accounts.get_user_by_email(db, email)
    created = user is None
    if user is None:
        user = accounts.create_user(db, email, full_name)
    membership = db.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )
    if membership is None:
        membership = Membership(
            user=user, organisation=organisation, audience=audience, is_referent=is_referent
        )
        db.add(membership)
    else:
        if membership.ended_at is None and not created:
            raise ServiceError(
                _("%(email)s fa già parte di questa organizzazione.", email=user.email)
            )
        membership.ended_at = None
        membership.audience = audience
        membership.is_referent = is_referent
    db.flush()
    audit.record(
        db,
        "membership.added",
        actor=actor,
        organisation_id=organisation.id,
        object_type="membership",
        object_id=membership.id,
        subject_id=user.id,
        details={"audience": audience.code, "referent": is_referent, "new_account": created},
    )
    return membership, created


@dataclass(frozen=True)
class NewMember:
    """One person for :func:`add_members`: as for :func:`add_member`, without the referent
    flag (a bulk addition never makes referents)."""

    email: str
    full_name: str
    audience_code: str


@dataclass(frozen=True)
class AddedMembers:
    """What :func:`add_members` did: the new accounts (to invite after commit, in the order
    given) and each person's membership id."""

    created: list[User]
    memberships: dict[int, int]  # user id -> membership id

    @property
    def created_ids(self) -> list[int]:
        return [user.id for user in self.created]


def _audience_ids(db: Session, codes: set[str]) -> dict[str, int]:
    """Profile code -> id in one query; an unknown code refuses the whole batch."""
    stmt = select(Audience.code, Audience.id).where(Audience.code.in_(codes))
    found = {code: audience_id for code, audience_id in db.execute(stmt)}
    unknown = sorted(codes - found.keys())
    if unknown:
        raise ServiceError(_("Pubblico sconosciuto: %(code)s", code=unknown[0]))
    return found


def _expire(db: Session, model: type, ids: Iterable[int]) -> None:
    """Forget the loaded copies of rows a bulk UPDATE changed (it bypasses the ORM)."""
    for pk in ids:
        loaded = db.identity_map.get(identity_key(model, pk))
        if loaded is not None:
            db.expire(loaded)


def add_members(
    db: Session,
    organisation: Organisation,
    people: Sequence[NewMember],
    *,
    actor: User | None = None,
) -> AddedMembers:
    """:func:`add_member` for many people in a constant number of statements.

    A staff import adds thousands of people: one statement each for the lookups, the new
    accounts, the new memberships, the re-activations and the audit entries (the same
    ``membership.added`` entries as one by one), whatever their number. Refused whole
    (``ServiceError``) if a person is already a current member or listed twice.
    """
    if not people:
        return AddedMembers([], {})
    wanted: dict[str, NewMember] = {}
    for person in people:
        email = normalise_email(person.email)
        if email in wanted:
            raise ServiceError(_("%(email)s compare due volte.", email=email))
        name = single_line(person.full_name, what=_("Il nome"))
        if not name:
            raise ServiceError(_("Il nome e cognome è obbligatorio."))
        wanted[email] = NewMember(email, name, person.audience_code)
    audiences = _audience_ids(db, {p.audience_code for p in wanted.values()})
    stmt = select(User.email, User.id).where(User.email.in_(list(wanted)))
    users = {email: user_id for email, user_id in db.execute(stmt)}
    existing: dict[int, tuple[int, dt.datetime | None]] = {}
    if users:
        for membership_id, user_id, ended_at in db.execute(
            select(Membership.id, Membership.user_id, Membership.ended_at).where(
                Membership.organisation_id == organisation.id,
                Membership.user_id.in_(list(users.values())),
            )
        ):
            existing[user_id] = (membership_id, ended_at)
    for email, user_id in users.items():
        if user_id in existing and existing[user_id][1] is None:
            raise ServiceError(_("%(email)s fa già parte di questa organizzazione.", email=email))
    fresh = [p for email, p in wanted.items() if email not in users]
    created: list[User] = []
    if fresh:
        # No sort_by_parameter_order: on SQLite it costs a statement per row; the e-mail
        # address (unique) puts the accounts back in the order given.
        by_email = {
            user.email: user
            for user in db.scalars(
                insert(User).returning(User),
                [{"email": p.email, "full_name": p.full_name, "locale": "it"} for p in fresh],
            )
        }
        created = [by_email[p.email] for p in fresh]
        users.update((user.email, user.id) for user in created)
    joining = [users[email] for email in wanted if users[email] not in existing]
    memberships = {user_id: membership_id for user_id, (membership_id, _e) in existing.items()}
    audience_of = {users[email]: audiences[p.audience_code] for email, p in wanted.items()}
    if joining:
        memberships.update(
            (user_id, membership_id)
            for membership_id, user_id in db.execute(
                insert(Membership).returning(Membership.id, Membership.user_id),
                [
                    {
                        "user_id": user_id,
                        "organisation_id": organisation.id,
                        "audience_id": audience_of[user_id],
                        "is_referent": False,
                    }
                    for user_id in joining
                ],
            )
        )
    if existing:  # former members: the same row comes back, history kept
        db.execute(
            update(Membership),
            [
                {
                    "id": membership_id,
                    "ended_at": None,
                    "audience_id": audience_of[user_id],
                    "is_referent": False,
                }
                for user_id, (membership_id, _ended) in existing.items()
            ],
        )
        _expire(db, Membership, (membership_id for membership_id, _e in existing.values()))
    new_ids = {user.id for user in created}
    audit.record_many(
        db,
        "membership.added",
        (
            audit.Item(
                object_id=memberships[users[email]],
                subject_id=users[email],
                details={
                    "audience": p.audience_code,
                    "referent": False,
                    "new_account": users[email] in new_ids,
                },
            )
            for email, p in wanted.items()
        ),
        actor=actor,
        organisation_id=organisation.id,
        object_type="membership",
    )
    return AddedMembers(created, {users[email]: memberships[users[email]] for email in wanted})


@dataclass(frozen=True)
class AudienceChange:
    """A current member's new profile, for :func:`change_audiences`."""

    membership_id: int
    user_id: int
    audience_code: str


def change_audiences(
    db: Session,
    organisation: Organisation,
    changes: Sequence[AudienceChange],
    *,
    actor: User | None = None,
    source: str,
) -> None:
    """New profiles for current members in three statements whatever their number (the
    profiles, one UPDATE, the ``membership.audience_changed`` entries); ``source`` is
    noted in each entry (``staff_import``)."""
    if not changes:
        return
    audiences = _audience_ids(db, {change.audience_code for change in changes})
    db.execute(
        update(Membership),
        [{"id": c.membership_id, "audience_id": audiences[c.audience_code]} for c in changes],
    )
    _expire(db, Membership, (c.membership_id for c in changes))
    audit.record_many(
        db,
        "membership.audience_changed",
        (
            audit.Item(
                object_id=c.membership_id,
                subject_id=c.user_id,
                details={"audience": c.audience_code, "source": source},
            )
            for c in changes
        ),
        actor=actor,
        organisation_id=organisation.id,
        object_type="membership",
    )


def end_membership(
    db: Session, organisation_id: int, user_id: int, *, actor: User | None = None
) -> Membership:
    """Remove someone from the organisation; the row stays as history."""
    membership = db.scalar(
        select(Membership).where(
            Membership.organisation_id == organisation_id,
            Membership.user_id == user_id,
            Membership.ended_at.is_(None),
        )
    )
    if membership is None:
        raise NotFound(_("Persona non trovata in questa organizzazione."))
    membership.ended_at = clock.now()
    membership.is_referent = False
    db.flush()
    audit.record(
        db,
        "membership.ended",
        actor=actor,
        organisation_id=organisation_id,
        object_type="membership",
        object_id=membership.id,
        subject_id=user_id,
    )
    return membership


def reactivate_member(
    db: Session, organisation_id: int, user_id: int, *, actor: User | None = None
) -> User:
    """A referent wakes a current member whose account retention put to sleep."""
    membership = db.scalar(
        select(Membership).where(
            Membership.organisation_id == organisation_id,
            Membership.user_id == user_id,
            Membership.ended_at.is_(None),
        )
    )
    if membership is None:
        raise NotFound(_("Persona non trovata in questa organizzazione."))
    accounts.reactivate(db, membership.user, actor=actor, via="referent")
    return membership.user


# The profile most people of an organisation of this type have, when it has no staff yet.
_TYPE_AUDIENCE = {
    "cav": "operatrici_cav",
    "forze_ordine": "forze_ordine",
    "magistratura": "magistratura",
    "sociosanitario": "sanitario",
    "comune": "amministrazione",
}


def usual_audience(db: Session, organisation: Organisation) -> str | None:
    """The profile to propose when inviting someone: the one most of the organisation's
    current staff have (a police command: "Polizia Locale"), else the usual one for its
    type; never simply the first of the list."""
    code = db.scalar(
        select(Audience.code)
        .join(Membership, Membership.audience_id == Audience.id)
        .where(Membership.organisation_id == organisation.id, Membership.ended_at.is_(None))
        .group_by(Audience.code)
        .order_by(func.count(Membership.id).desc(), Audience.code)
        .limit(1)
    )
    return code or _TYPE_AUDIENCE.get(str(organisation.type))


class InvitationState(StrEnum):
    ACCEPTED = "accepted"  # the person chose a password
    PENDING = "pending"  # invited, the link still valid
    EXPIRED = "expired"  # invited, the link expired without use


def invitation_state(user: User, now: dt.datetime, max_age_seconds: int) -> InvitationState:
    """Where an invitation stands. Links are valid ``max_age_seconds`` from the account's
    creation or the last time one was sent again (``invitation_sent_at``)."""
    if user.password_hash:
        return InvitationState.ACCEPTED
    sent = user.invitation_sent_at or user.created_at
    if now - sent > dt.timedelta(seconds=max_age_seconds):
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def _check_name(db: Session, name: str, organisation_id: int | None = None) -> str:
    from lms.text import single_line

    name = single_line(name, what=_("Il nome"))
    if not name:
        raise ServiceError(_("Il nome dell'ente è obbligatorio."))
    clash = db.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower()))
    if clash is not None and clash != organisation_id:
        raise ServiceError(_("Esiste già un ente con il nome «%(name)s».", name=name))
    return name


def create_organisation(
    db: Session,
    *,
    name: str,
    code: str,
    type: str,
    signatory: bool = True,
    actor: User | None = None,
) -> Organisation:
    """A new organisation in the database, which is the registry at run time (the YAML
    file only seeds it: ``lms seed-organisations`` adds and renames by code, never deletes)."""
    code = code.strip().upper()
    name = _check_name(db, name)
    try:
        org_type = OrganisationType(type)
    except ValueError:
        raise ServiceError(_("Tipo di ente sconosciuto.")) from None
    if db.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise ServiceError(_("Esiste già un ente con il codice %(code)s.", code=code))
    org = Organisation(name=name, code=code, type=org_type.value, signatory=signatory)
    db.add(org)
    db.flush()
    audit.record(
        db,
        "organisation.created",
        actor=actor,
        organisation_id=org.id,
        object_type="organisation",
        object_id=org.id,
        details={"code": code},
    )
    return org


def update_organisation(
    db: Session,
    organisation: Organisation,
    *,
    name: str,
    type: str,
    signatory: bool,
    active: bool,
    actor: User | None = None,
) -> None:
    """Rename, re-type or (de)activate; the code stays, it is how the registry knows it."""
    name = _check_name(db, name, organisation.id)
    try:
        org_type = OrganisationType(type)
    except ValueError:
        raise ServiceError(_("Tipo di ente sconosciuto.")) from None
    before = (organisation.name, organisation.type, organisation.signatory, organisation.active)
    organisation.name, organisation.type = name, org_type.value
    organisation.signatory, organisation.active = signatory, active
    if before != (name, org_type.value, signatory, active):
        audit.record(
            db,
            "organisation.updated",
            actor=actor,
            organisation_id=organisation.id,
            object_type="organisation",
            object_id=organisation.id,
            details={"active": active},
        )
    db.flush()
