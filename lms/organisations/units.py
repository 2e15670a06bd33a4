"""Organisation units: a tree inside each organisation, and the scope it gives referents.

A unit's ``path`` holds the ids from its root to itself ("/4/9/"): the subtree of a unit
is every unit whose path starts with its own, found with one indexed prefix match, and
a move rewrites the paths below it in one statement. Trees are small (an Ufficio
Scolastico's few hundred schools), so scopes are sets of ids handed to ``IN``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lms import audit, clock
from lms.accounts.models import User
from lms.errors import NotFound, ServiceError
from lms.organisations.models import (
    UNIT_PATH_LENGTH,
    Membership,
    Organisation,
    OrganisationUnit,
)
from lms.organisations.scope import StaffScope as StaffScope  # re-exported
from lms.organisations.scope import subtree_ids as subtree_ids  # re-exported
from lms.text import single_line

UNIT_NAME_LENGTH = 255


def get_unit(
    session: Session, unit_id: int, organisation_id: int | None = None
) -> OrganisationUnit:
    unit = session.get(OrganisationUnit, unit_id)
    if unit is None or (organisation_id is not None and unit.organisation_id != organisation_id):
        raise NotFound(_("Unità non trovata."))
    return unit


def units_of(
    session: Session, organisation_id: int, *, open_only: bool = False
) -> list[OrganisationUnit]:
    """The organisation's units in tree order (each parent before its children)."""
    stmt = select(OrganisationUnit).where(OrganisationUnit.organisation_id == organisation_id)
    if open_only:
        stmt = stmt.where(OrganisationUnit.closed_at.is_(None))
    units = list(session.scalars(stmt))
    return tree_order(units)


def tree_order(units: list[OrganisationUnit]) -> list[OrganisationUnit]:
    """Parents first, siblings by name: the order of an indented list."""
    by_id = {unit.id: unit for unit in units}

    def key(unit: OrganisationUnit) -> list[str]:
        ids = [int(part) for part in unit.path.strip("/").split("/") if part]
        return [by_id[i].name.casefold() if i in by_id else "" for i in ids] + [str(unit.id)]

    return sorted(units, key=key)


def _clean_name(name: str) -> str:
    cleaned = single_line(name or "").strip()
    if not cleaned:
        raise ServiceError(_("Indica il nome dell'unità."))
    if len(cleaned) > UNIT_NAME_LENGTH:
        raise ServiceError(_("Il nome dell'unità è troppo lungo."))
    return cleaned


def _check_sibling_name(
    session: Session,
    organisation_id: int,
    parent_id: int | None,
    name: str,
    own_id: int | None = None,
) -> None:
    stmt = select(OrganisationUnit.id).where(
        OrganisationUnit.organisation_id == organisation_id,
        OrganisationUnit.parent_id.is_(None)
        if parent_id is None
        else OrganisationUnit.parent_id == parent_id,
        func.lower(OrganisationUnit.name) == name.lower(),
        OrganisationUnit.closed_at.is_(None),
    )
    if own_id is not None:
        stmt = stmt.where(OrganisationUnit.id != own_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise ServiceError(_("Esiste già un'unità con questo nome allo stesso livello."))


def create_unit(
    session: Session,
    organisation: Organisation,
    name: str,
    *,
    parent: OrganisationUnit | None = None,
    actor: User | None = None,
) -> OrganisationUnit:
    name = _clean_name(name)
    if parent is not None:
        if parent.organisation_id != organisation.id:
            raise ServiceError(_("L'unità superiore appartiene a un'altra organizzazione."))
        if not parent.is_open:
            raise ServiceError(_("L'unità superiore è chiusa."))
        if len(parent.path) + 12 > UNIT_PATH_LENGTH:
            raise ServiceError(_("L'albero delle unità è troppo profondo."))
    _check_sibling_name(session, organisation.id, parent.id if parent else None, name)
    unit = OrganisationUnit(
        organisation_id=organisation.id, parent_id=parent.id if parent else None, name=name
    )
    session.add(unit)
    session.flush()  # the id goes into the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    audit.record(
        session,
        "organisations.unit_created",
        actor=actor,
        organisation_id=organisation.id,
        object_type="unit",
        object_id=unit.id,
        details={"name": name, "parent_id": unit.parent_id},
    )
    return unit


def rename_unit(
    session: Session, unit: OrganisationUnit, name: str, *, actor: User | None = None
) -> None:
    name = _clean_name(name)
    if name == unit.name:
        return
    _check_sibling_name(session, unit.organisation_id, unit.parent_id, name, own_id=unit.id)
    old, unit.name = unit.name, name
    audit.record(
        session,
        "organisations.unit_renamed",
        actor=actor,
        organisation_id=unit.organisation_id,
        object_type="unit",
        object_id=unit.id,
        details={"from": old, "to": name},
    )


def move_unit(
    session: Session,
    unit: OrganisationUnit,
    new_parent: OrganisationUnit | None,
    *,
    actor: User | None = None,
) -> None:
    """Put ``unit`` (with everything below it) under ``new_parent`` (None: at the top)."""
    if new_parent is not None:
        if new_parent.organisation_id != unit.organisation_id:
            raise ServiceError(_("L'unità superiore appartiene a un'altra organizzazione."))
        if new_parent.path.startswith(unit.path):
            raise ServiceError(_("Un'unità non può stare sotto sé stessa o sotto una sua unità."))
        if not new_parent.is_open:
            raise ServiceError(_("L'unità superiore è chiusa."))
    new_parent_id = new_parent.id if new_parent else None
    if new_parent_id == unit.parent_id:
        return
    _check_sibling_name(session, unit.organisation_id, new_parent_id, unit.name, own_id=unit.id)
    old_path = unit.path
    new_path = f"{new_parent.path if new_parent else '/'}{unit.id}/"
    deepest = session.scalar(
        select(func.max(func.length(OrganisationUnit.path))).where(
            OrganisationUnit.path.startswith(old_path, autoescape=True)
        )
    )
    if (deepest or 0) - len(old_path) + len(new_path) > UNIT_PATH_LENGTH:
        raise ServiceError(_("L'albero delle unità è troppo profondo."))
    old_parent_id = unit.parent_id
    session.execute(
        update(OrganisationUnit)
        .where(OrganisationUnit.path.startswith(old_path, autoescape=True))
        .values(path=new_path + func.substr(OrganisationUnit.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    )
    unit.parent_id = new_parent_id
    session.flush()
    session.expire_all()
    audit.record(
        session,
        "organisations.unit_moved",
        actor=actor,
        organisation_id=unit.organisation_id,
        object_type="unit",
        object_id=unit.id,
        details={"from_parent_id": old_parent_id, "to_parent_id": new_parent_id},
    )


def close_unit(session: Session, unit: OrganisationUnit, *, actor: User | None = None) -> None:
    """Close a unit that nobody works in any more (its history stays).

    Refused while it has open units below it or current members: they are moved first,
    so that nobody silently falls out of their referent's sight.
    """
    if not unit.is_open:
        return
    below = session.scalar(
        select(func.count(OrganisationUnit.id)).where(
            OrganisationUnit.parent_id == unit.id, OrganisationUnit.closed_at.is_(None)
        )
    )
    if below:
        raise ServiceError(
            _("L'unità ha ancora unità aperte al suo interno: spostale o chiudile prima.")
        )
    members = session.scalar(
        select(func.count(Membership.id)).where(
            Membership.unit_id == unit.id, Membership.ended_at.is_(None)
        )
    )
    if members:
        raise ServiceError(
            _(
                "Nell'unità lavorano ancora %(count)d persone: spostale in un'altra unità prima.",
                count=members,
            )
        )
    unit.closed_at = clock.now()
    audit.record(
        session,
        "organisations.unit_closed",
        actor=actor,
        organisation_id=unit.organisation_id,
        object_type="unit",
        object_id=unit.id,
    )


def place_member(
    session: Session,
    membership: Membership,
    unit: OrganisationUnit | None,
    *,
    actor: User | None = None,
) -> None:
    """Put a person in ``unit`` of their organisation (None: the organisation as a whole)."""
    if unit is not None:
        if unit.organisation_id != membership.organisation_id:
            raise ServiceError(_("L'unità appartiene a un'altra organizzazione."))
        if not unit.is_open:
            raise ServiceError(_("L'unità è chiusa."))
    new_id = unit.id if unit else None
    if membership.unit_id == new_id:
        return
    old_id, membership.unit_id = membership.unit_id, new_id
    audit.record(
        session,
        "organisations.member_placed",
        actor=actor,
        organisation_id=membership.organisation_id,
        object_type="user",
        object_id=membership.user_id,
        details={"from_unit_id": old_id, "to_unit_id": new_id},
    )


def unit_by_name_path(session: Session, organisation_id: int, names: str) -> OrganisationUnit:
    """The open unit named by "Parent / Child" (a staff file's column), case-insensitive."""
    parts = [single_line(p).strip().lower() for p in names.split("/") if p.strip()]
    if not parts:
        raise ServiceError(_("Unità non indicata."))
    parent_id: int | None = None
    unit = None
    for part in parts:
        stmt = select(OrganisationUnit).where(
            OrganisationUnit.organisation_id == organisation_id,
            OrganisationUnit.closed_at.is_(None),
            func.lower(OrganisationUnit.name) == part,
            OrganisationUnit.parent_id.is_(None)
            if parent_id is None
            else OrganisationUnit.parent_id == parent_id,
        )
        unit = session.scalar(stmt.limit(1))
        if unit is None:
            raise ServiceError(_("Unità non trovata: %(name)s.", name=names.strip()))
        parent_id = unit.id
    assert unit is not None
    return unit


def unit_label(unit: OrganisationUnit, names_by_id: dict[int, str]) -> str:
    """ "ASST Nord / Ospedale X / Pronto soccorso": the names along the unit's path."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return " / ".join(names_by_id.get(i, "?") for i in ids)


@dataclass(frozen=True)
class UnitChoice:
    id: int
    label: str  # the names along the path, so that two "Pronto soccorso" differ
    closed: bool


def unit_choices(session: Session, scope: StaffScope) -> list[UnitChoice]:
    """The units a reader with ``scope`` may choose to read, in tree order."""
    units = units_of(session, scope.organisation_id)
    names = {unit.id: unit.name for unit in units}
    if scope.unit_ids is not None:
        units = [unit for unit in units if unit.id in scope.unit_ids]
    return [UnitChoice(unit.id, unit_label(unit, names), not unit.is_open) for unit in units]
