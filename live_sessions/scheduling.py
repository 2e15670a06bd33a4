"""Scheduling sessions: validation, creation, changes, cancellation, listings.

Times are entered in the session's time zone (Europe/Rome unless said
otherwise) and stored in UTC; ``local`` converts back for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from courses.api import Course, LearningChanges, learning_changed
from live_sessions.models import (
    DEFAULT_TIME_ZONE,
    Attendance,
    LiveSession,
    SessionStatus,
    session_audience,
    session_trainer,
)
from live_sessions.policy import can_manage_session, can_schedule
from live_sessions.registration import lock_session, promote_waiting
from lms import clock, signals
from lms.accounts.models import Role, User, UserRole
from lms.errors import Forbidden, NotFound, ServiceError
from lms.organisations.models import Audience
from lms.text import TextError, single_line

MAX_CAPACITY = 5000
MAX_DURATION_MINUTES = 5 * 24 * 60


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ServiceError(_("Fuso orario sconosciuto: %(name)s", name=name)) from error


def local(moment: dt.datetime, time_zone: str = DEFAULT_TIME_ZONE) -> dt.datetime:
    return moment.astimezone(zone(time_zone))


def from_local(naive: dt.datetime, time_zone: str = DEFAULT_TIME_ZONE) -> dt.datetime:
    """A wall-clock time in ``time_zone`` as an aware UTC instant; refuses skipped hours."""
    aware = naive.replace(tzinfo=zone(time_zone))
    back = aware.astimezone(dt.UTC).astimezone(zone(time_zone)).replace(tzinfo=None)
    if back != naive:
        raise ServiceError(
            _(
                "L'orario %(time)s non esiste in quel giorno (cambio dell'ora legale).",
                time=naive.strftime("%H:%M"),
            )
        )
    return aware.astimezone(dt.UTC)


def clean_url(raw: str | None) -> str | None:
    """An online link: http or https with a host, nothing else (no javascript:, data:...)."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ServiceError(_("Il collegamento online non è un indirizzo web valido."))
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ServiceError(_("Il collegamento online deve iniziare con https:// o http://."))
    return urlunsplit(parts._replace(scheme=parts.scheme.lower()))


@dataclass
class SessionData:
    """Everything a trainer enters for a session, as plain values (times aware)."""

    title: str
    starts_at: dt.datetime
    duration_minutes: int
    capacity: int
    hours: Decimal
    trainer_ids: list[int]
    description: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    place: str = ""
    online_url: str | None = None
    course_id: int | None = None
    required: bool = False
    waiting_list: bool = True
    all_audiences: bool = False
    audience_ids: list[int] = field(default_factory=list)
    credits: str | None = None
    registration_opens_at: dt.datetime | None = None
    registration_closes_at: dt.datetime | None = None
    cancellation_deadline: dt.datetime | None = None


def trainer_choices(session: Session) -> list[User]:
    """People who may run sessions: active users with the trainer role."""
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.TRAINER.value, User.active.is_(True))
        .order_by(User.full_name)
    )
    return list(session.scalars(stmt).unique())


def _one_line_fields(data: SessionData) -> list[str]:
    """Normalise title, place and credits in ``data`` (one line each); say what is refused."""
    problems: list[str] = []
    for name, what in (
        ("title", _("Il titolo")),
        ("place", _("Il luogo")),
        ("credits", _("Il testo dei crediti")),
    ):
        try:
            setattr(data, name, single_line(getattr(data, name) or "", what=what))
        except TextError as error:
            problems.append(str(error))
    data.credits = data.credits or None
    return problems


def _check(session: Session, data: SessionData) -> list[str]:
    problems = _one_line_fields(data)
    if not data.title.strip():
        problems.append(_("Indica un titolo."))
    zone(data.time_zone)
    if not data.place.strip() and not data.online_url:
        problems.append(_("Indica il luogo oppure il collegamento online."))
    if not 0 < data.capacity <= MAX_CAPACITY:
        problems.append(_("I posti devono essere tra 1 e %(n)d.", n=MAX_CAPACITY))
    if not 0 < data.duration_minutes <= MAX_DURATION_MINUTES:
        problems.append(_("La durata non è valida."))
    if not Decimal(0) <= data.hours <= Decimal(999):
        problems.append(_("Le ore riconosciute non sono valide."))
    if data.required and data.course_id is None:
        problems.append(_("Un incontro obbligatorio deve appartenere a un corso."))
    if data.course_id is not None and session.get(Course, data.course_id) is None:
        problems.append(_("Corso non trovato."))
    if not data.all_audiences and not data.audience_ids:
        problems.append(_("Scegli almeno un profilo professionale, oppure tutti."))
    trainers = {u.id for u in trainer_choices(session)}
    if not data.trainer_ids:
        problems.append(_("Indica almeno una formatrice o un formatore."))
    elif set(data.trainer_ids) - trainers:
        problems.append(_("Solo chi ha il ruolo di formatrice/formatore può condurre un incontro."))
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if opens and closes and opens >= closes:
        problems.append(_("Le iscrizioni devono aprirsi prima di chiudersi."))
    if closes and closes > data.starts_at:
        problems.append(_("Le iscrizioni devono chiudersi entro l'inizio dell'incontro."))
    if data.cancellation_deadline and data.cancellation_deadline > data.starts_at:
        problems.append(_("Il termine per annullare deve essere entro l'inizio dell'incontro."))
    return problems


def _apply(session: Session, live: LiveSession, data: SessionData) -> None:
    live.title = data.title.strip()
    live.description = data.description.strip()
    live.course_id = data.course_id
    live.required = data.required
    live.starts_at = data.starts_at
    live.time_zone = data.time_zone
    live.duration_minutes = data.duration_minutes
    live.place = data.place.strip()
    live.online_url = clean_url(data.online_url)
    live.capacity = data.capacity
    live.waiting_list = data.waiting_list
    live.all_audiences = data.all_audiences
    live.hours = data.hours
    live.credits = (data.credits or "").strip() or None
    live.registration_opens_at = data.registration_opens_at
    live.registration_closes_at = data.registration_closes_at
    live.cancellation_deadline = data.cancellation_deadline
    live.audiences = (
        list(session.scalars(select(Audience).where(Audience.id.in_(data.audience_ids))))
        if not data.all_audiences
        else []
    )
    live.trainers = list(session.scalars(select(User).where(User.id.in_(data.trainer_ids))))


def create_session(session: Session, data: SessionData, *, actor: User) -> LiveSession:
    """Schedule a session; a trainer who schedules it runs it."""
    if not can_schedule(actor):
        raise Forbidden(_("Solo formatrici, formatori e amministratori programmano incontri."))
    if not actor.is_admin and actor.id not in data.trainer_ids:
        data.trainer_ids = [*data.trainer_ids, actor.id]
    data.online_url = clean_url(data.online_url)
    if problems := _check(session, data):
        raise ServiceError(problems[0], details=problems)
    if data.starts_at <= clock.now():
        raise ServiceError(_("L'incontro deve iniziare nel futuro."))
    live = LiveSession(created_by_id=actor.id, status=SessionStatus.SCHEDULED)
    _apply(session, live, data)
    session.add(live)
    session.flush()
    return live


def update_session(
    session: Session, session_id: int, data: SessionData, *, actor: User
) -> tuple[LiveSession, list]:
    """Change a session under its lock; more seats promote from the waiting list.

    Returns the session and the registrations promoted (to notify after commit).
    """
    live = lock_session(session, session_id)
    if not can_manage_session(actor, live):
        raise Forbidden(_("Puoi modificare solo gli incontri che conduci."))
    if live.is_cancelled:
        raise ServiceError(_("L'incontro è annullato."))
    if not actor.is_admin and actor.id not in data.trainer_ids:
        data.trainer_ids = [*data.trainer_ids, actor.id]  # a trainer never drops themself
    data.online_url = clean_url(data.online_url)
    if problems := _check(session, data):
        raise ServiceError(problems[0], details=problems)
    if data.capacity < live.confirmed_count:
        raise ServiceError(
            _(
                "Ci sono già %(n)d iscrizioni confermate: i posti non possono essere meno.",
                n=live.confirmed_count,
            )
        )
    _apply(session, live, data)
    live.updated_at = clock.now()
    session.flush()
    _announce_attendees(session, live)
    return live, promote_waiting(session, live)


def cancel_session(session: Session, session_id: int, *, actor: User) -> LiveSession:
    live = lock_session(session, session_id)
    if not can_manage_session(actor, live):
        raise Forbidden(_("Puoi annullare solo gli incontri che conduci."))
    if live.is_cancelled:
        raise ServiceError(_("L'incontro è già annullato."))
    live.status = SessionStatus.CANCELLED
    live.cancelled_at = live.updated_at = clock.now()
    session.flush()
    _announce_attendees(session, live)
    return live


def _announce_attendees(session: Session, live: LiveSession) -> None:
    """The hours of a session count toward commitments: when its hours, time or state
    change, name whoever has attendance recorded, so that what is derived is recomputed."""
    attendees = session.scalars(select(Attendance.user_id).where(Attendance.session_id == live.id))
    changes = {user_id: frozenset() for user_id in attendees}
    if changes:
        signals.send(learning_changed, session=session, changes=LearningChanges(changes))


def get_session(session: Session, session_id: int) -> LiveSession:
    live = session.get(LiveSession, session_id)
    if live is None:
        raise NotFound(_("Incontro non trovato."))
    return live


def _with_details(stmt):  # noqa: ANN001, ANN202 - a Select
    return stmt.options(
        selectinload(LiveSession.audiences),
        selectinload(LiveSession.trainers),
        selectinload(LiveSession.course),
    )


def upcoming(
    session: Session, *, audience_code: str | None = None, now: dt.datetime | None = None
) -> list[LiveSession]:
    """Scheduled sessions not yet over, soonest first, optionally for one audience."""
    now = now or clock.now()
    stmt = _with_details(select(LiveSession)).where(
        LiveSession.status == SessionStatus.SCHEDULED,
        LiveSession.starts_at >= now - dt.timedelta(days=MAX_DURATION_MINUTES // 1440),
    )
    if audience_code:
        in_audience = exists().where(
            session_audience.c.session_id == LiveSession.id,
            session_audience.c.audience_id == Audience.id,
            Audience.code == audience_code,
        )
        stmt = stmt.where(or_(LiveSession.all_audiences.is_(True), in_audience))
    found = session.scalars(stmt.order_by(LiveSession.starts_at, LiveSession.id))
    return [live for live in found if live.ends_at > now]


def sessions_run_by(session: Session, user: User) -> list[LiveSession]:
    """Sessions a trainer runs (all sessions for admins), latest first."""
    stmt = _with_details(select(LiveSession))
    if not user.is_admin:
        stmt = stmt.where(
            exists().where(
                session_trainer.c.session_id == LiveSession.id,
                session_trainer.c.user_id == user.id,
            )
        )
    return list(session.scalars(stmt.order_by(LiveSession.starts_at.desc(), LiveSession.id)))
