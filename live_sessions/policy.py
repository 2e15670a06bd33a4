"""Who may do what with sessions. Plain functions on users (no request)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from live_sessions.models import LiveSession
from lms.accounts.models import Role, User
from lms.organisations.models import Membership
from lms.organisations.policy import referent_organisation_ids


def can_schedule(user: User) -> bool:
    """Trainers and admins schedule sessions."""
    return user.is_authenticated and user.has_role(Role.TRAINER, Role.ADMIN)


def can_manage_session(user: User, live: LiveSession) -> bool:
    """A trainer manages (edits, marks attendance of) only their own sessions; admins all."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_role(Role.ADMIN):
        return True
    return user.has_role(Role.TRAINER) and any(t.id == user.id for t in live.trainers)


def person_organisation_ids(session: Session, person_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Membership.organisation_id).where(
                Membership.user_id == person_id, Membership.ended_at.is_(None)
            )
        )
    )


def can_act_for(session: Session, actor: User, person_id: int) -> bool:
    """The person themself, a current referent of one of the person's organisations, or admins."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    if actor.id == person_id or actor.has_role(Role.ADMIN):
        return True
    managed = referent_organisation_ids(actor)
    return bool(managed and managed & person_organisation_ids(session, person_id))
