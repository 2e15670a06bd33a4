"""Personal data held by self-registration: a person's own requests (name, e-mail, where
they asked to join, the decision and its reason).

The export lists the requests made with the account's e-mail or that created it; erasure
deletes them (requests are also deleted 90 days after a decision, by the daily prune).
A referent who decided others' requests keeps no personal data of theirs here: erasing
the referent only clears ``decided_by_id``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.plugins import PrivacyProvider
from lms.registration.models import RegistrationRequest


def _own(session: Session, user_id: int) -> Any:
    email = session.scalar(select(User.email).where(User.id == user_id))
    return or_(RegistrationRequest.user_id == user_id, RegistrationRequest.email == email)


def export(session: Session, user_id: int) -> dict[str, Any]:
    requests = session.scalars(
        select(RegistrationRequest).where(_own(session, user_id)).order_by(RegistrationRequest.id)
    )
    return {
        "registration_requests": [
            {
                "email": request.email,
                "full_name": request.full_name,
                "organisation": request.organisation.name,
                "unit": request.unit.name if request.unit else None,
                "audience": request.audience.code,
                "status": request.status,
                "source": request.source,
                "reason": request.reason,
                "created_at": request.created_at.isoformat(),
                "decided_at": request.decided_at.isoformat() if request.decided_at else None,
            }
            for request in requests
        ]
    }


def erase(session: Session, user_id: int) -> None:
    session.execute(delete(RegistrationRequest).where(_own(session, user_id)))
    session.execute(
        update(RegistrationRequest)
        .where(RegistrationRequest.decided_by_id == user_id)
        .values(decided_by_id=None)
    )


PROVIDER = PrivacyProvider(
    tables=frozenset({"lms_registration_request"}), export=export, erase=erase
)
