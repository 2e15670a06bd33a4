"""Demo data: a repeat of the lawyers' course at the Ordine degli Avvocati (23 July 2024),
and, for the demo staff of ``lms.demo``, a session held weeks ago (registrations and
attendance) and one coming up (registrations), written through the services at those
moments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import zip_longest

from sqlalchemy import select
from sqlalchemy.orm import Session

from courses.api import Course
from live_sessions.attendance import Mark, record_marks
from live_sessions.models import AttendanceStatus, LiveSession
from live_sessions.registration import register
from live_sessions.scheduling import SessionData, create_session, from_local
from lms import clock
from lms.accounts.models import User
from lms.accounts.services import get_user_by_email
from lms.organisations.models import Audience

DEMO_TRAINER = "formatrice@rete-milano.test"
DEMO_TITLE = "La Rete antiviolenza del Comune di Milano: competenze e saperi specifici"
DEMO_COURSE = "avvocati-rete-vittimizzazione-secondaria"
DEMO_DESCRIPTION = (
    "Corso professionalizzante per avvocate e avvocati, in replica dell'incontro del "
    "23 luglio 2024 all'Ordine degli Avvocati: come lavorano la Rete antiviolenza, i Centri "
    "antiviolenza e le Case rifugio; come evitare la vittimizzazione secondaria della donna "
    "nel percorso legale (Convenzione di Istanbul, Art. 31, 45 e 48)."
)


def load_demo(session: Session) -> Iterable[str]:
    return [_lawyers_session(session), *_staff_sessions(session)]


def _lawyers_session(session: Session) -> str:
    if session.scalar(select(LiveSession.id).where(LiveSession.title == DEMO_TITLE)):
        return "Incontri in presenza: l'incontro dimostrativo per avvocate e avvocati c'è già."
    trainer = get_user_by_email(session, DEMO_TRAINER)
    lawyers = session.scalar(select(Audience).where(Audience.code == "avvocati"))
    if trainer is None or lawyers is None:
        return "Incontri in presenza: manca la formatrice dimostrativa, nessun incontro creato."
    course_id = session.scalar(select(Course.id).where(Course.slug == DEMO_COURSE))
    day = (clock.now() + dt.timedelta(days=14)).date()
    starts_at = from_local(dt.datetime.combine(day, dt.time(14, 30)))
    live = create_session(
        session,
        SessionData(
            title=DEMO_TITLE,
            description=DEMO_DESCRIPTION,
            starts_at=starts_at,
            duration_minutes=180,
            capacity=40,
            hours=Decimal(3),
            credits="3 CFP",
            trainer_ids=[trainer.id],
            place="Ordine degli Avvocati di Milano – Palazzo di Giustizia, Via Freguglia 1, Milano",
            course_id=course_id,
            audience_ids=[lawyers.id],
            cancellation_deadline=starts_at - dt.timedelta(days=2),
        ),
        actor=trainer,
    )
    return f"Incontri in presenza: programmato «{live.title}» per il {day:%d/%m/%Y} (3 CFP)."


@dataclass(frozen=True)
class StaffSession:
    title: str
    course: str
    audiences: tuple[str, ...]
    days_from_now: int  # negative: already held
    place: str
    registered: int  # how many demo people register (from the two organisations)
    absent: int = 0
    partial: int = 0


STAFF_SESSIONS = (
    StaffSession(
        "Accogliere la denuncia: esercitazione in aula (dimostrativo)",
        "polizia-locale-denuncia",
        ("polizia_locale",),
        -40,
        "Comando di Polizia Locale, Piazza Beccaria 19, Milano",
        registered=18,
        absent=2,
        partial=2,
    ),
    StaffSession(
        "La Rete antiviolenza per chi accoglie: incontro con i Centri antiviolenza (dimostrativo)",
        "rete-antiviolenza-milano",
        ("polizia_locale", "triage_asst"),
        21,
        "Palazzo Marino, Sala Alessi, Piazza della Scala 2, Milano",
        registered=14,
    ),
)


def _staff_sessions(session: Session) -> list[str]:
    from lms.demo import PLANS, all_staff

    trainer = get_user_by_email(session, DEMO_TRAINER)
    if trainer is None:
        return []
    people = [p for p in all_staff() if p.scenario in ("complete", "in_progress", "expiring")]
    users = {
        u.email: u
        for u in session.scalars(select(User).where(User.email.in_([p.email for p in people])))
    }
    referents = {
        plan.org_code: get_user_by_email(session, f"referente.{plan.tag}@rete-milano.test")
        for plan in PLANS
    }
    lines = []
    now = clock.now()
    for plan in STAFF_SESSIONS:
        if session.scalar(select(LiveSession.id).where(LiveSession.title == plan.title)):
            lines.append(f"Incontri in presenza: «{plan.title}» c'è già.")
            continue
        audiences = list(
            session.scalars(select(Audience.id).where(Audience.code.in_(plan.audiences)))
        )
        course_id = session.scalar(select(Course.id).where(Course.slug == plan.course))
        day = (now + dt.timedelta(days=plan.days_from_now)).date()
        starts_at = from_local(dt.datetime.combine(day, dt.time(9, 30)))
        created_at = min(now, starts_at - dt.timedelta(days=30))
        with clock.frozen(created_at):
            live = create_session(
                session,
                SessionData(
                    title=plan.title,
                    description="Incontro dimostrativo creato da «lms demo».",
                    starts_at=starts_at,
                    duration_minutes=180,
                    capacity=30,
                    hours=Decimal(3),
                    trainer_ids=[trainer.id],
                    place=plan.place,
                    course_id=course_id,
                    audience_ids=audiences,
                ),
                actor=trainer,
            )
        # Alternating between the profiles the session is for.
        by_audience = [
            [p for p in people if p.audience == code and p.email in users]
            for code in plan.audiences
        ]
        mixed = [p for group in zip_longest(*by_audience) for p in group if p is not None]
        chosen = mixed[: plan.registered]
        with clock.frozen(created_at + dt.timedelta(days=2)):
            for person in chosen:
                actor = referents.get(person.org_code) or trainer
                register(session, live.id, users[person.email].id, actor=actor)
        if plan.days_from_now < 0:
            marks = []
            for n, person in enumerate(chosen):
                if n < plan.absent:
                    marks.append(Mark(users[person.email].id, AttendanceStatus.ABSENT))
                elif n < plan.absent + plan.partial:
                    marks.append(Mark(users[person.email].id, AttendanceStatus.PARTIAL, 120))
                else:
                    marks.append(Mark(users[person.email].id, AttendanceStatus.PRESENT))
            with clock.frozen(starts_at + dt.timedelta(hours=4)):
                record_marks(session, live.id, marks, actor=trainer)
            lines.append(
                f"Incontri in presenza: «{plan.title}» svolto il {day:%d/%m/%Y}, "
                f"{len(chosen)} iscrizioni e presenze registrate."
            )
        else:
            lines.append(
                f"Incontri in presenza: «{plan.title}» programmato per il {day:%d/%m/%Y}, "
                f"{len(chosen)} iscrizioni."
            )
    return lines
