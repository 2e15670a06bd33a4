"""Registration, cancellation and the waiting list, safe under concurrent requests.

Every change to a session's registrations starts by locking the session row
with an UPDATE that bumps ``queue_seq``: PostgreSQL holds a row lock until
commit, SQLite the database's write lock. Whoever holds it reads committed
counts, so decisions are serialised per session; the seat itself is taken by
a conditional ``UPDATE ... WHERE confirmed_count < capacity`` and the CHECK
constraint ``confirmed_count <= capacity`` stops anything that slipped by.
A request that lost a race on SQLite ("database is locked") is retried by
``lms.db.commit_with_retries``, so actions here only flush and must be re-runnable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from live_sessions.models import LiveSession, Registration, RegistrationSource, RegistrationStatus
from live_sessions.policy import can_act_for, can_manage_session
from lms import clock
from lms.accounts.models import User
from lms.errors import Forbidden, NotFound, ServiceError
from lms.organisations.models import Membership, Organisation

ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


def lock_session(session: Session, session_id: int) -> LiveSession:
    """Take the session's lock (first statement of the transaction) and read it fresh."""
    result = session.execute(
        update(LiveSession)
        .where(LiveSession.id == session_id)
        .values(queue_seq=LiveSession.queue_seq + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotFound(_("Incontro non trovato."))
    live = session.get(LiveSession, session_id, populate_existing=True)
    assert live is not None
    return live


def _take_seat(session: Session, live: LiveSession) -> bool:
    result = session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id, LiveSession.confirmed_count < LiveSession.capacity)
        .values(confirmed_count=LiveSession.confirmed_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(live, ["confirmed_count"])
    return result.rowcount == 1


def _release_seat(session: Session, live: LiveSession) -> None:
    session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id, LiveSession.confirmed_count > 0)
        .values(confirmed_count=LiveSession.confirmed_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(live, ["confirmed_count"])


def registration_state(live: LiveSession, now: dt.datetime) -> str:
    """``open``, ``not_yet``, ``closed`` or ``cancelled`` (for pages and checks)."""
    if live.is_cancelled:
        return "cancelled"
    if live.registration_opens_at and now < live.registration_opens_at:
        return "not_yet"
    if now >= (live.registration_closes_at or live.starts_at):
        return "closed"
    return "open"


def cancellation_deadline(live: LiveSession) -> dt.datetime:
    return live.cancellation_deadline or live.starts_at


def active_registration(session: Session, session_id: int, user_id: int) -> Registration | None:
    return session.scalar(
        select(Registration).where(
            Registration.session_id == session_id,
            Registration.user_id == user_id,
            Registration.status.in_(ACTIVE),
        )
    )


def register(
    session: Session,
    session_id: int,
    person_id: int,
    *,
    actor: User,
    now: dt.datetime | None = None,
) -> Registration:
    """Register a person: a seat if one is free, else the waiting list (if the session has one).

    Operators register themselves, referents their own staff, admins anyone
    (admins also outside the registration window, never after the start).
    """
    now = now or clock.now()
    live = lock_session(session, session_id)
    person = session.get(User, person_id)
    if person is None or not person.active:
        raise NotFound(_("Persona non trovata."))
    if not can_act_for(session, actor, person_id):
        raise Forbidden(_("Puoi iscrivere solo te o il personale della tua organizzazione."))
    state = registration_state(live, now)
    if state == "cancelled":
        raise ServiceError(_("L'incontro è stato annullato."))
    if now >= live.starts_at or (state != "open" and not actor.is_admin):
        raise ServiceError(_("Le iscrizioni a questo incontro non sono aperte."))
    if active_registration(session, live.id, person_id) is not None:
        raise ServiceError(
            _("%(name)s ha già un posto o è in lista d'attesa.", name=person.full_name)
        )
    if live.confirmed_count < live.capacity and _take_seat(session, live):
        status = RegistrationStatus.CONFIRMED
    elif live.waiting_list:
        status = RegistrationStatus.WAITLISTED
    else:
        raise ServiceError(_("L'incontro è al completo."))
    if actor.id == person_id:
        source = RegistrationSource.SELF
    else:
        source = RegistrationSource.ADMIN if actor.is_admin else RegistrationSource.REFERENT
    registration = Registration(
        session_id=live.id,
        user_id=person_id,
        status=status,
        queue_number=live.queue_seq,
        source=source,
        registered_by_id=None if source is RegistrationSource.SELF else actor.id,
        created_at=now,
        confirmed_at=now if status is RegistrationStatus.CONFIRMED else None,
    )
    session.add(registration)
    session.flush()
    return registration


def promote_waiting(
    session: Session, live: LiveSession, now: dt.datetime | None = None
) -> list[Registration]:
    """Fill free seats from the waiting list, first come first served (caller holds the lock)."""
    now = now or clock.now()
    promoted: list[Registration] = []
    if live.is_cancelled or now >= live.starts_at:
        return promoted
    waiting = session.scalars(
        select(Registration)
        .where(
            Registration.session_id == live.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.queue_number)
    ).all()
    for registration in waiting:
        if live.confirmed_count >= live.capacity or not _take_seat(session, live):
            break
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = now
        promoted.append(registration)
    session.flush()
    return promoted


@dataclass(frozen=True)
class Cancellation:
    registration: Registration
    promoted: list[Registration]


def cancel(
    session: Session,
    session_id: int,
    registration_id: int,
    *,
    actor: User,
    now: dt.datetime | None = None,
) -> Cancellation:
    """Cancel a registration; a freed seat goes to the first on the waiting list, atomically.

    The person and their referents may cancel until the cancellation deadline;
    the session's trainers and admins until the start.
    """
    now = now or clock.now()
    live = lock_session(session, session_id)
    registration = session.get(Registration, registration_id, populate_existing=True)
    if registration is None or registration.session_id != live.id or not registration.is_active:
        raise NotFound(_("Iscrizione non trovata."))
    manager = can_manage_session(actor, live)
    if not manager and not can_act_for(session, actor, registration.user_id):
        raise Forbidden(_("Non puoi annullare questa iscrizione."))
    if now >= live.starts_at:
        raise ServiceError(_("L'incontro è già iniziato: l'iscrizione non si può più annullare."))
    if not manager and now >= cancellation_deadline(live):
        raise ServiceError(_("Il termine per annullare l'iscrizione è scaduto."))
    promoted = withdraw(session, live, registration, by_id=actor.id, now=now)
    return Cancellation(registration, promoted)


def withdraw(
    session: Session,
    live: LiveSession,
    registration: Registration,
    *,
    by_id: int | None,
    now: dt.datetime,
) -> list[Registration]:
    """Cancel under the session's lock (the caller holds it); a freed seat is promoted."""
    was_confirmed = registration.status == RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.cancelled_by_id = by_id
    session.flush()
    if not was_confirmed:
        return []
    _release_seat(session, live)
    return promote_waiting(session, live, now)


def waiting_position(session: Session, registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = session.scalar(
        select(func.count(Registration.id)).where(
            Registration.session_id == registration.session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.queue_number < registration.queue_number,
        )
    )
    return int(ahead or 0) + 1


def roster(session: Session, session_id: int) -> list[Registration]:
    """Active registrations: confirmed by name, then the waiting list in order."""
    rows = session.scalars(
        select(Registration)
        .join(User, User.id == Registration.user_id)
        .where(Registration.session_id == session_id, Registration.status.in_(ACTIVE))
        .options(joinedload(Registration.user))
        .order_by(User.full_name, Registration.id)
    ).all()
    confirmed = [r for r in rows if r.status == RegistrationStatus.CONFIRMED]
    waiting = sorted(
        (r for r in rows if r.status == RegistrationStatus.WAITLISTED),
        key=lambda r: r.queue_number,
    )
    return confirmed + waiting


def organisation_names(session: Session, user_ids: list[int]) -> dict[int, str]:
    """Each person's current organisation(s), for rosters and sign-in sheets."""
    names: dict[int, list[str]] = {}
    stmt = (
        select(Membership.user_id, Organisation.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id.in_(user_ids), Membership.ended_at.is_(None))
        .order_by(Organisation.name)
    )
    for user_id, name in session.execute(stmt):
        names.setdefault(user_id, []).append(name)
    return {user_id: "; ".join(found) for user_id, found in names.items()}


def my_registrations(
    session: Session, user_id: int, *, now: dt.datetime | None = None
) -> list[Registration]:
    """A person's active registrations of sessions not yet over, soonest first."""
    now = now or clock.now()
    rows = session.scalars(
        select(Registration)
        .join(LiveSession, LiveSession.id == Registration.session_id)
        .where(
            Registration.user_id == user_id,
            Registration.status.in_(ACTIVE),
            LiveSession.starts_at >= now - dt.timedelta(days=5),
        )
        .options(joinedload(Registration.live_session))
        .order_by(LiveSession.starts_at)
    ).all()
    return [r for r in rows if r.live_session.ends_at > now]
