"""Who may see and act on which organisation. Plain functions on a user."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context
from sqlalchemy import and_, event, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from lms import db
from lms.accounts.models import Role, User
from lms.organisations.models import Membership

if TYPE_CHECKING:
    from lms.organisations.scope import StaffScope

# Per request, ``{user_id: frozenset(organisation ids)}``: the navigation alone asks
# for the current user's organisations four times (the core and three plugins).
_CACHE = "_lms_referent_organisations"
_MANAGED_CACHE = "_lms_managed_organisations"  # the same, units' referents included


#: A membership that makes its person a referent of its whole organisation now.
CURRENT_REFERENT = and_(
    Membership.is_referent.is_(True), Membership.ended_at.is_(None), Membership.unit_id.is_(None)
)
#: A membership that makes its person a referent now, of all its organisation or a unit.
CURRENT_ANY_REFERENT = and_(Membership.is_referent.is_(True), Membership.ended_at.is_(None))
#: A membership that makes its person a referent of one unit (and the units below) now.
CURRENT_UNIT_REFERENT = and_(
    Membership.is_referent.is_(True), Membership.ended_at.is_(None), Membership.unit_id.is_not(None)
)


def referent_organisation_ids(user: User) -> set[int]:
    """Organisations where ``user`` is a current referent.

    Remembered for the rest of the request, and forgotten as soon as the session
    writes or rolls back memberships; unflushed membership changes bypass it (the
    query autoflushes them, as without the cache).
    """
    cache = _request_cache()
    if cache is not None and user.id in cache and not _memberships_pending(db.session()):
        return set(cache[user.id])
    stmt = select(Membership.organisation_id).where(Membership.user_id == user.id, CURRENT_REFERENT)
    found = set(db.session.scalars(stmt))
    remember_referent_organisations(user.id, found)
    return found


def remember_referent_organisations(
    user_id: int, organisation_ids: Iterable[int], managed_ids: Iterable[int] | None = None
) -> None:
    """What :func:`referent_organisation_ids` answers for this user in this request,
    read by the caller in the same transaction (the login loader reads it with the
    user, since every page's navigation asks)."""
    if not has_request_context():
        return
    cache = g.get(_CACHE)
    if cache is None:
        cache = {}
        setattr(g, _CACHE, cache)
    cache[user_id] = frozenset(organisation_ids)
    if managed_ids is not None:
        managed = g.get(_MANAGED_CACHE)
        if managed is None:
            managed = {}
            setattr(g, _MANAGED_CACHE, managed)
        managed[user_id] = frozenset(managed_ids)


def _request_cache() -> dict[int, frozenset[int]] | None:
    if not has_request_context():
        return None
    return g.get(_CACHE)


def _forget() -> None:
    if has_request_context():
        g.pop(_CACHE, None)
        g.pop(_MANAGED_CACHE, None)


def _memberships_pending(session: Session) -> bool:
    return any(
        isinstance(obj, Membership) for obj in chain(session.new, session.dirty, session.deleted)
    )


@event.listens_for(db.session, "after_flush")
def _forget_after_flush(session: Session, _context: UOWTransaction) -> None:
    if _memberships_pending(session):  # still the flushed objects, in after_flush
        _forget()


@event.listens_for(db.session, "after_soft_rollback")
def _forget_after_rollback(_session: Session, _previous: Any) -> None:
    _forget()


@event.listens_for(db.session, "do_orm_execute")
def _forget_after_bulk_write(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and (
        state.bind_mapper is not None and state.bind_mapper.class_ is Membership
    ):
        _forget()


def can_manage_organisation(user: User, organisation_id: int) -> bool:
    """Named staff data: admins and the organisation's own referents only.

    The coordinator sees the network in aggregate, never named staff.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_role(Role.ADMIN):
        return True
    return organisation_id in referent_organisation_ids(user)


def referent_unit_ids(user: User, organisation_id: int) -> frozenset[int]:
    """The units of ``organisation_id`` that ``user`` follows as a unit referent, with
    every unit below them (closed ones included: their history stays visible)."""
    from lms.organisations.scope import subtree_ids

    if not user.is_authenticated:
        return frozenset()
    own = list(
        db.session.scalars(
            select(Membership.unit_id).where(
                Membership.user_id == user.id,
                Membership.organisation_id == organisation_id,
                CURRENT_UNIT_REFERENT,
            )
        )
    )
    return subtree_ids(db.session, [unit_id for unit_id in own if unit_id is not None])


def staff_scope(user: User, organisation_id: int) -> StaffScope | None:
    """What ``user`` may see of the organisation's named staff: all of it (admins and the
    organisation's referents), the subtrees of their units (unit referents), or nothing."""
    from lms.organisations.scope import StaffScope

    if can_manage_organisation(user, organisation_id):
        return StaffScope(organisation_id)
    if not user.is_authenticated or not user.is_active:
        return None
    units = referent_unit_ids(user, organisation_id)
    return StaffScope(organisation_id, units) if units else None


def managed_organisation_ids(user: User) -> set[int]:
    """Organisations whose staff ``user`` follows, wholly or through some of its units."""
    whole = referent_organisation_ids(user)
    cache = g.get(_MANAGED_CACHE) if has_request_context() else None
    if cache is not None and user.id in cache and not _memberships_pending(db.session()):
        return whole | set(cache[user.id])
    partly = set(
        db.session.scalars(
            select(Membership.organisation_id).where(
                Membership.user_id == user.id, CURRENT_UNIT_REFERENT
            )
        )
    )
    return whole | partly


def can_view_network(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.ADMIN, Role.COORDINATOR)
