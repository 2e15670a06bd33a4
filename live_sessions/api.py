"""live_sessions' public face: what other plugins may ask of in-person sessions.

Commitments count attended sessions toward a commitment's hours
(``commitments.rules.facts.gather_activities``); attendance changes are announced with
courses' ``learning_changed`` naming the person and no course, so that whatever is
derived from hours is recomputed in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from live_sessions.attendance import hours_attended
from live_sessions.models import Attendance, AttendanceStatus, LiveSession, SessionStatus

__all__ = ["attended_hours"]


def attended_hours(
    session: Session,
    users_subquery,  # noqa: ANN001 - a scalar Select of user ids
    at: dt.datetime,
) -> list[tuple[int, dt.datetime, Decimal]]:
    """(person, session start, hours) of every attendance up to ``at`` that counts: all
    the session's hours for presence, in proportion to the minutes for partial."""
    stmt = (
        select(Attendance, LiveSession)
        .join(LiveSession, LiveSession.id == Attendance.session_id)
        .where(
            Attendance.user_id.in_(users_subquery),
            Attendance.status.in_((AttendanceStatus.PRESENT, AttendanceStatus.PARTIAL)),
            LiveSession.status == SessionStatus.SCHEDULED,
            LiveSession.starts_at <= at,
        )
    )
    found = []
    for attendance, live in session.execute(stmt):
        hours = hours_attended(live, attendance)
        if hours > 0:
            found.append((attendance.user_id, live.starts_at, hours))
    return found
