"""Personal data held by this plugin: export (GDPR Art. 15) and erasure (Art. 17).

Erasure keeps attendance (anonymous once the account is pseudonymised, so
hours still count in statistics), cancels the person's registrations of
sessions still to come, freeing their seats for the waiting list, and takes
them off the trainers of sessions still to come.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from live_sessions.models import (
    Attendance,
    AttendanceChange,
    LiveSession,
    Registration,
    session_trainer,
)
from live_sessions.registration import ACTIVE, lock_session, withdraw
from lms import clock
from lms.plugins import PrivacyProvider


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, user_id: int) -> dict[str, Any]:
    registrations = session.scalars(
        select(Registration).where(Registration.user_id == user_id).order_by(Registration.id)
    )
    attendance = session.scalars(
        select(Attendance).where(Attendance.user_id == user_id).order_by(Attendance.id)
    )
    led = session.scalars(
        select(LiveSession)
        .join(session_trainer, session_trainer.c.session_id == LiveSession.id)
        .where(session_trainer.c.user_id == user_id)
        .order_by(LiveSession.starts_at)
    )
    changes = session.scalars(
        select(AttendanceChange)
        .where(AttendanceChange.changed_by_id == user_id)
        .order_by(AttendanceChange.id)
    )
    return {
        "registrations": [
            {
                "session": r.live_session.title,
                "starts_at": _iso(r.live_session.starts_at),
                "status": r.status,
                "registered_at": _iso(r.created_at),
                "cancelled_at": _iso(r.cancelled_at),
                "by_someone_else": r.registered_by_id is not None,
            }
            for r in registrations
        ],
        "attendance": [
            {
                "session": a.live_session.title,
                "starts_at": _iso(a.live_session.starts_at),
                "status": a.status,
                "minutes": a.minutes,
                "recorded_at": _iso(a.recorded_at),
            }
            for a in attendance
        ],
        "sessions_led": [{"title": s.title, "starts_at": _iso(s.starts_at)} for s in led],
        "attendance_recorded_for_others": [
            {"at": _iso(c.changed_at), "attendance_id": c.attendance_id, "new_status": c.new_status}
            for c in changes
        ],
    }


def erase(session: Session, user_id: int) -> None:
    now = clock.now()
    future = session.scalars(
        select(Registration)
        .join(LiveSession, LiveSession.id == Registration.session_id)
        .where(
            Registration.user_id == user_id,
            Registration.status.in_(ACTIVE),
            LiveSession.starts_at > now,
        )
    ).all()
    for session_id, registration_id in [(r.session_id, r.id) for r in future]:
        live = lock_session(session, session_id)
        registration = session.get(Registration, registration_id, populate_existing=True)
        assert registration is not None
        withdraw(session, live, registration, by_id=None, now=now)
    upcoming = select(LiveSession.id).where(LiveSession.starts_at > now)
    session.execute(
        delete(session_trainer).where(
            session_trainer.c.user_id == user_id, session_trainer.c.session_id.in_(upcoming)
        )
    )
    session.flush()


PROVIDER = PrivacyProvider(
    tables=frozenset(
        {
            "live_sessions_session",
            "live_sessions_session_trainer",
            "live_sessions_registration",
            "live_sessions_attendance",
            "live_sessions_attendance_change",
        }
    ),
    export=export,
    erase=erase,
)
