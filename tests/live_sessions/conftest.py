"""Fixtures for live sessions: a trainer, sessions, people registered, the day of the session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from live_sessions import registration
from live_sessions.models import LiveSession, Registration
from live_sessions.scheduling import SessionData, create_session
from lms import clock, db
from lms.accounts.models import Role, User

PLACE = "Casa dei Diritti, Via De Amicis 10, 20123 Milano"


@pytest.fixture
def trainer(make_user: Callable[..., User]) -> User:
    return make_user(
        name="Formatrice di Prova", roles=(Role.TRAINER,), org="CDM-ADI", audience="amministrazione"
    )


def session_data(trainer: User, **overrides: Any) -> SessionData:
    starts = (clock.now() + dt.timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    values: dict[str, Any] = {
        "title": "La rete antiviolenza per l'avvocatura",
        "starts_at": starts,
        "duration_minutes": 180,
        "capacity": 3,
        "hours": Decimal(3),
        "credits": "3 CFP",
        "trainer_ids": [trainer.id],
        "place": PLACE,
        "all_audiences": True,
    }
    values.update(overrides)
    return SessionData(**values)


@pytest.fixture
def make_session(trainer: User) -> Callable[..., LiveSession]:
    """Schedule a session through the service, as its trainer, and commit."""

    def factory(*, actor: User | None = None, **overrides: Any) -> LiveSession:
        data = session_data(trainer, **overrides)
        live = create_session(db.session, data, actor=actor or trainer)
        db.session.commit()
        return live

    return factory


@pytest.fixture
def register() -> Callable[..., Registration]:
    """Register through the service (as the person, or ``actor``) and commit."""

    def factory(live: LiveSession, person: User, actor: User | None = None) -> Registration:
        created = registration.register(db.session, live.id, person.id, actor=actor or person)
        db.session.commit()
        return created

    return factory


def begin_now(live: LiveSession, minutes_ago: int = 0) -> None:
    """Move the session to today, started ``minutes_ago`` (attendance opens on the day)."""
    db.session.execute(
        update(LiveSession)
        .where(LiveSession.id == live.id)
        .values(starts_at=clock.now() - dt.timedelta(minutes=minutes_ago))
    )
    db.session.commit()
    db.session.refresh(live)


def mark(app: Any, live: LiveSession, actor: User, marks: list[Any]) -> int:
    """Record attendance as ``actor`` in an app context (the certificates receiver needs one)."""
    from live_sessions.attendance import record_marks

    with app.app_context():
        changed = record_marks(db.session, live.id, marks, actor=actor)
        db.session.commit()
    return changed
