"""E-mails about registrations: confirmation (with the calendar link), waiting
list, promotion from it, cancelled sessions, and the reminder the day before.

Mails go out after the transaction that caused them has committed (the views
and the CLI call these functions then); a notification that cannot be sent is
logged and never undoes, nor fails, the request that saved the data. The
reminder is claimed with a conditional UPDATE (``reminder_sent_at IS NULL``)
inside a savepoint and committed right after sending, so that a second or
concurrent run never sends it twice; one that fails is rolled back (the next run
tries again), logged and counted, and the run goes on with the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, object_session

from live_sessions.models import LiveSession, Registration, RegistrationStatus, SessionStatus
from live_sessions.rosters import when
from live_sessions.scheduling import local
from lms import clock, mail, signals
from lms.accounts.models import User

log = logging.getLogger(__name__)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link from ``LMS_BASE_URL``, also outside a request (CLI)."""
    base = current_app.config["LMS_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context():
        return base + url_for(endpoint, **values)


def _send(
    registration: Registration, template: str, subject: str, *, key: str = "", **context: Any
) -> None:
    """Mail one registration's message; ``key`` (the reminder) goes through the
    notifications when installed: listed, and mailed unless the person turned it off."""
    user, live = registration.user, registration.live_session
    with force_locale(user.locale):
        page = external_url("live_sessions.detail", session_id=live.id)
        body = render_template(
            f"live_sessions/email/{template}.txt",
            user=user,
            live=live,
            registration=registration,
            when=when(live, user.locale),
            page=page,
            ics=external_url("live_sessions.calendar_file", session_id=live.id),
            **context,
        )
        if key:
            message = signals.Message(user, "session_reminder", key, str(subject), body, page)
            session = object_session(registration)
            if signals.handled(signals.message_ready, session=session, message=message):
                return
        mail.send(user.email, str(subject), body)


@contextmanager
def _after_commit(what: str, registration: Registration) -> Iterator[None]:
    """The data is saved already: the mail is queued and committed on its own (a job
    sends it); one that cannot be built is logged, never raised."""
    session = object_session(registration)
    try:
        yield
        if session is not None:
            session.commit()
    except Exception:  # noqa: BLE001 - any failure (template, address) alike
        if session is not None:
            session.rollback()
        log.exception("%s mail not sent for registration %s", what, registration.id)


def notify_registered(registration: Registration, position: int | None = None) -> None:
    """Confirmation with the .ics link, or the place on the waiting list."""
    with _after_commit("registration", registration), force_locale(registration.user.locale):
        if registration.status == RegistrationStatus.CONFIRMED:
            subject = _("Iscrizione confermata: %(title)s", title=registration.live_session.title)
            template = "confirmed"
        else:
            subject = _("In lista d'attesa: %(title)s", title=registration.live_session.title)
            template = "waitlisted"
        _send(registration, template, subject, position=position)


def notify_promoted(registration: Registration) -> None:
    with _after_commit("promotion", registration), force_locale(registration.user.locale):
        subject = _("Si è liberato un posto: %(title)s", title=registration.live_session.title)
        _send(registration, "promoted", subject)


def notify_cancelled_registration(registration: Registration) -> None:
    with _after_commit("cancellation", registration), force_locale(registration.user.locale):
        subject = _("Iscrizione annullata: %(title)s", title=registration.live_session.title)
        _send(registration, "registration_cancelled", subject)


def notify_session_cancelled(session: Session, live: LiveSession) -> int:
    registrations = session.scalars(
        select(Registration)
        .where(
            Registration.session_id == live.id,
            Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)),
        )
        .options(joinedload(Registration.user))
    ).all()
    for registration in registrations:
        with _after_commit("session cancelled", registration):
            with force_locale(registration.user.locale):
                subject = _("Incontro annullato: %(title)s", title=live.title)
            _send(registration, "session_cancelled", subject)
    return len(registrations)


def due_reminders(session: Session, now: dt.datetime) -> list[Registration]:
    """Confirmed registrations of active people for sessions held tomorrow (in the
    session's time zone)."""
    candidates = session.scalars(
        select(Registration)
        .join(LiveSession, LiveSession.id == Registration.session_id)
        .join(User, User.id == Registration.user_id)
        .where(
            User.active.is_(True),
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.reminder_sent_at.is_(None),
            LiveSession.status == SessionStatus.SCHEDULED,
            LiveSession.starts_at > now,
            LiveSession.starts_at <= now + dt.timedelta(days=2, hours=2),
        )
        .options(joinedload(Registration.live_session), joinedload(Registration.user))
        .order_by(LiveSession.starts_at, Registration.id)
    ).all()
    due = []
    for registration in candidates:
        live = registration.live_session
        tomorrow = local(now, live.time_zone).date() + dt.timedelta(days=1)
        if local(live.starts_at, live.time_zone).date() == tomorrow:
            due.append(registration)
    return due


def _claim(session: Session, registration: Registration, now: dt.datetime) -> bool:
    result = session.execute(
        update(Registration)
        .where(
            Registration.id == registration.id,
            Registration.reminder_sent_at.is_(None),
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .values(reminder_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class ReminderReport:
    sent: int
    failed: int


def _remind(session: Session, registration: Registration, now: dt.datetime) -> bool:
    """Claim and send one reminder inside a savepoint; False if another run has it."""
    with session.begin_nested():
        if not _claim(session, registration, now):
            return False
        with force_locale(registration.user.locale):
            subject = _("Promemoria: domani %(title)s", title=registration.live_session.title)
        key = f"session:{registration.id}:{registration.live_session.starts_at.isoformat()}"
        _send(registration, "reminder", subject, key=key)
    return True


def send_reminders(session: Session, *, now: dt.datetime | None = None) -> ReminderReport:
    """Send each due reminder once; commits after each one sent, goes on after a failure."""
    now = now or clock.now()
    sent = failed = 0
    for registration in due_reminders(session, now):
        registration_id = registration.id
        try:
            if not _remind(session, registration, now):
                continue  # sent by another run
        except Exception:  # noqa: BLE001 - one bad item (data, address, server) stops no other
            log.exception("reminder not sent for registration %s", registration_id)
            failed += 1
            continue
        session.commit()
        sent += 1
    return ReminderReport(sent, failed)
