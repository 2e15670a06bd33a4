"""Demo data: a repeat of the lawyers' course at the Ordine degli Avvocati (23 July 2024)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from courses.api import Course
from live_sessions.models import LiveSession
from live_sessions.scheduling import SessionData, create_session, from_local
from lms import clock
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
    if session.scalar(select(LiveSession.id).where(LiveSession.title == DEMO_TITLE)):
        return ["Incontri in presenza: l'incontro dimostrativo per avvocate e avvocati c'è già."]
    trainer = get_user_by_email(session, DEMO_TRAINER)
    lawyers = session.scalar(select(Audience).where(Audience.code == "avvocati"))
    if trainer is None or lawyers is None:
        return ["Incontri in presenza: manca la formatrice dimostrativa, nessun incontro creato."]
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
    return [f"Incontri in presenza: programmato «{live.title}» per il {day:%d/%m/%Y} (3 CFP)."]
