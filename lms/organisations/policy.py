"""Who may see and act on which organisation. Plain functions on a user."""

from __future__ import annotations

from sqlalchemy import select

from lms import db
from lms.accounts.models import Role, User
from lms.organisations.models import Membership


def referent_organisation_ids(user: User) -> set[int]:
    """Organisations where ``user`` is a current referent."""
    stmt = select(Membership.organisation_id).where(
        Membership.user_id == user.id,
        Membership.is_referent.is_(True),
        Membership.ended_at.is_(None),
    )
    return set(db.session.scalars(stmt))


def can_manage_organisation(user: User, organisation_id: int) -> bool:
    """Named staff data: admins and the organisation's own referents only.

    The coordinator sees the network in aggregate, never named staff.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_role(Role.ADMIN):
        return True
    return organisation_id in referent_organisation_ids(user)


def can_view_network(user: User) -> bool:
    return user.is_authenticated and user.has_role(Role.ADMIN, Role.COORDINATOR)
