"""Attendance: marking, corrections with history, and what attendance counts for.

Full attendance ("present") of a session
* is certified: ``completion_recorded`` is sent in the same transaction with a
  ``session`` completion carrying the session's hours and credits;
* counts toward the session's course: a course with required sessions is
  complete only once the person attended one of them
  (:func:`attendance_requirement`, one of courses' completion requirements), and
  marking someone present re-checks the course's completion if they are enrolled.

Partial attendance is recorded with its minutes (and proportional hours in
reports) but neither certifies nor completes. Every change writes an
``AttendanceChange`` row and an entry in the platform's audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from courses.api import (
    CourseCompletion,
    CourseVersion,
    LearningChanges,
    active_enrolment,
    check_completion,
    latest_versions_query,
    learning_changed,
)
from live_sessions.models import (
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    LiveSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
)
from live_sessions.policy import can_manage_session, person_organisation_ids
from live_sessions.scheduling import local
from lms import audit, clock, signals
from lms.accounts.models import User
from lms.errors import Forbidden, NotFound, ServiceError
from lms.signals import CompletionEvent, completion_recorded


@dataclass(frozen=True)
class Mark:
    user_id: int
    status: AttendanceStatus
    minutes: int | None = None


def marking_open(live: LiveSession, now: dt.datetime) -> bool:
    """Attendance is recorded from the session's start onwards: before it nobody attended."""
    return now >= live.starts_at


def not_started_message(live: LiveSession) -> str:
    return _(
        "Le presenze si registrano dall'inizio dell'incontro (%(start)s), non prima.",
        start=local(live.starts_at, live.time_zone).strftime("%d/%m/%Y %H:%M"),
    )


def require_marking_open(live: LiveSession, now: dt.datetime) -> None:
    """Refuse every way of marking (list, roster, sheet) before the session starts."""
    if not marking_open(live, now):
        raise ServiceError(not_started_message(live))


def hours_attended(live: LiveSession, attendance: Attendance | None) -> Decimal:
    """Hours that count: all for presence, in proportion to the minutes for partial."""
    if attendance is None or attendance.status == AttendanceStatus.ABSENT:
        return Decimal(0)
    if attendance.status == AttendanceStatus.PRESENT:
        return Decimal(live.hours)
    share = Decimal(live.hours) * Decimal(attendance.minutes or 0) / live.duration_minutes
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_mark(live: LiveSession, mark: Mark) -> str | None:
    """What is wrong with one mark, or None."""
    if mark.status == AttendanceStatus.PARTIAL:
        if mark.minutes is None or not 0 < mark.minutes < live.duration_minutes:
            return _(
                "Per una presenza parziale indica i minuti (da 1 a %(n)d).",
                n=live.duration_minutes - 1,
            )
    elif mark.minutes is not None:
        return _("I minuti si indicano solo per una presenza parziale.")
    return None


def confirmed_user_ids(session: Session, session_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Registration.user_id).where(
                Registration.session_id == session_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
    )


def record_marks(
    session: Session,
    session_id: int,
    marks: list[Mark],
    *,
    actor: User,
    source: str = "list",
    now: dt.datetime | None = None,
) -> int:
    """Record attendance for confirmed registrations, all or nothing; returns changes made."""
    now = now or clock.now()
    live = session.get(LiveSession, session_id)
    if live is None:
        raise NotFound(_("Incontro non trovato."))
    if not can_manage_session(actor, live):
        raise Forbidden(_("Puoi registrare le presenze solo degli incontri che conduci."))
    if live.status != SessionStatus.SCHEDULED:
        raise ServiceError(_("L'incontro è stato annullato."))
    require_marking_open(live, now)
    registered = confirmed_user_ids(session, live.id)
    problems = []
    for mark in marks:
        if mark.user_id not in registered:
            problems.append(
                _("Persona non iscritta a questo incontro (id %(id)d).", id=mark.user_id)
            )
        elif problem := check_mark(live, mark):
            problems.append(problem)
    if len({m.user_id for m in marks}) != len(marks):
        problems.append(_("La stessa persona compare più volte."))
    if problems:
        raise ServiceError(problems[0], details=problems)
    existing = {
        a.user_id: a
        for a in session.scalars(select(Attendance).where(Attendance.session_id == live.id))
    }
    changed = 0
    for mark in marks:
        if _apply(session, live, existing.get(mark.user_id), mark, actor, source, now):
            changed += 1
    session.flush()
    return changed


def _apply(
    session: Session,
    live: LiveSession,
    attendance: Attendance | None,
    mark: Mark,
    actor: User,
    source: str,
    now: dt.datetime,
) -> bool:
    old_status = attendance.status if attendance else None
    old_minutes = attendance.minutes if attendance else None
    if (old_status, old_minutes) == (mark.status.value, mark.minutes):
        return False
    if attendance is None:
        attendance = Attendance(session_id=live.id, user_id=mark.user_id, recorded_at=now)
        session.add(attendance)
    attendance.status = mark.status.value
    attendance.minutes = mark.minutes
    attendance.recorded_by_id = actor.id
    attendance.updated_at = now
    session.flush()
    session.add(
        AttendanceChange(
            attendance_id=attendance.id,
            changed_by_id=actor.id,
            changed_at=now,
            old_status=old_status,
            old_minutes=old_minutes,
            new_status=mark.status.value,
            new_minutes=mark.minutes,
            source=source,
        )
    )
    organisations = sorted(person_organisation_ids(session, mark.user_id))
    audit.record(
        session,
        "live_sessions.attendance_corrected" if old_status else "live_sessions.attendance_marked",
        actor=actor,
        organisation_id=organisations[0] if organisations else None,
        object_type="live_session_attendance",
        object_id=attendance.id,
        subject_id=mark.user_id,
        details={
            "session_id": live.id,
            "old_status": old_status,
            "old_minutes": old_minutes,
            "new_status": mark.status.value,
            "new_minutes": mark.minutes,
            "source": source,
        },
        at=now,
    )
    if mark.status == AttendanceStatus.PRESENT and old_status != AttendanceStatus.PRESENT:
        _count_presence(session, live, attendance, now)
    # Attended hours count toward commitments: name the person, no course.
    signals.send(
        learning_changed,
        session=session,
        changes=LearningChanges({mark.user_id: frozenset()}),
    )
    return True


def _count_presence(
    session: Session, live: LiveSession, attendance: Attendance, now: dt.datetime
) -> None:
    completed_at = min(live.ends_at, now)
    signals.send(
        completion_recorded,
        session=session,
        event=CompletionEvent(
            user_id=attendance.user_id,
            kind="session",
            key=f"session:{live.id}",
            completion_ref=f"session-attendance:{attendance.id}",
            title=live.title,
            version_label=local(live.starts_at, live.time_zone).strftime("%d/%m/%Y"),
            hours=float(live.hours),
            completed_at=completed_at,
            credits=live.credits,
        ),
    )
    if live.required and live.course_id is not None:
        _recheck_course(session, live.course_id, attendance.user_id, now)


def _recheck_course(session: Session, course_id: int, user_id: int, now: dt.datetime) -> None:
    enrolment = active_enrolment(session, user_id, course_id)
    if enrolment is None:
        return
    version = session.scalar(latest_versions_query().where(CourseVersion.course_id == course_id))
    user = session.get(User, user_id)
    if version is not None and user is not None:
        check_completion(session, user, version, enrolment, now=now)


def attendance_requirement(session: Session, user_id: int, version: CourseVersion) -> bool:
    """A course with required sessions is complete only once the person attended one.

    Attendance counts from the person's previous completion of the course on
    (a renewal needs a new attendance). Registered by the plugin as one of the
    app's ``courses.extensions.COMPLETION_REQUIREMENTS``.
    """
    required = select(LiveSession.id).where(
        LiveSession.course_id == version.course_id,
        LiveSession.required.is_(True),
        LiveSession.status == SessionStatus.SCHEDULED,
    )
    if not session.scalars(required.limit(1)).first():
        return True
    previous = session.scalar(
        select(func.max(CourseCompletion.completed_at)).where(
            CourseCompletion.user_id == user_id, CourseCompletion.course_id == version.course_id
        )
    )
    attended = exists().where(
        Attendance.session_id == LiveSession.id,
        Attendance.user_id == user_id,
        Attendance.status == AttendanceStatus.PRESENT,
    )
    stmt = select(LiveSession.id).where(LiveSession.id.in_(required), attended)
    if previous is not None:
        stmt = stmt.where(LiveSession.starts_at > previous)
    return session.scalars(stmt.limit(1)).first() is not None


def attendance_by_user(session: Session, session_id: int) -> dict[int, Attendance]:
    return {
        a.user_id: a
        for a in session.scalars(select(Attendance).where(Attendance.session_id == session_id))
    }


def history(session: Session, session_id: int, limit: int = 200) -> list[AttendanceChange]:
    stmt = (
        select(AttendanceChange)
        .join(Attendance, Attendance.id == AttendanceChange.attendance_id)
        .where(Attendance.session_id == session_id)
        .options(
            joinedload(AttendanceChange.attendance).joinedload(Attendance.user),
            joinedload(AttendanceChange.changed_by),
        )
        .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
