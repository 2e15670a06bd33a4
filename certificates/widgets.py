"""The holder's certificates on the home page: current ones, with download and renewal dates.

A course's certificate carries the key ``course:<slug>`` (courses.progress issues it so),
which lets the learner's course card link to its certificate without either plugin
importing the other.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates import listing
from certificates.models import Certificate

COURSE_KEY_PREFIX = "course:"


def current_rows(session: Session, user_id: int, expiring_days: int) -> list[listing.Row]:
    """Certificates neither superseded by a renewal nor revoked, newest first."""
    return [
        row
        for row in listing.with_status(listing.of_holder(session, user_id), expiring_days)
        if row.certificate.superseded_at is None and row.certificate.revoked_at is None
    ]


def for_course(session: Session, user_id: int, course_slug: str) -> Certificate | None:
    """The person's current certificate for a course, if any."""
    return session.scalar(
        select(Certificate)
        .where(
            Certificate.user_id == user_id,
            Certificate.key == COURSE_KEY_PREFIX + course_slug,
            Certificate.superseded_at.is_(None),
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(1)
    )
