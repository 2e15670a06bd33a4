"""Administration's own operations: accounts created by an administrator."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lms import audit
from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.organisations import services as organisations


def create_account(
    db: Session,
    *,
    full_name: str,
    email: str,
    role: str | None,
    organisation_id: int | None,
    audience_code: str | None,
    is_referent: bool,
    actor: User,
) -> User:
    """Create the account (no password: the person chooses it from the invitation), with
    a role and a membership if given. Raises ``ServiceError`` with the reason, in which
    case the caller rolls back and nothing is written."""
    user = accounts.create_user(db, email, full_name, roles=(Role(role),) if role else ())
    if organisation_id is not None:
        organisation = organisations.get_organisation(db, organisation_id)
        organisations.add_member(
            db,
            organisation,
            email=user.email,
            full_name=user.full_name,
            audience_code=audience_code or "",
            is_referent=is_referent,
            actor=actor,
        )
    audit.record(
        db,
        "account.created",
        actor=actor,
        organisation_id=organisation_id,
        object_type="user",
        object_id=user.id,
        subject_id=user.id,
        details={"role": role or "", "referent": is_referent},
    )
    db.flush()
    return user
