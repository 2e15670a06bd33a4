"""Real concurrent requests on a database of their own: no overbooking, a fair waiting list."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from live_sessions.models import LiveSession, Registration
from live_sessions.scheduling import create_session
from lms import db
from lms.accounts.models import Role, User
from lms.accounts.services import create_user
from lms.migrate import upgrade
from lms.organisations.services import add_member, organisation_by_code, seed_registry
from tests.conftest import csrf_token, login, make_test_app, own_database, separate_database
from tests.live_sessions.conftest import session_data

PASSWORD = "password-concorrente"
PEOPLE = 8
SEATS = 3


def run_together(actions: list[Callable[[], Any]]) -> list[Any]:
    """Start every action at the same instant, each in its own thread."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = actions[index]()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def post(client: FlaskClient, url: str, page: str) -> Callable[[], Any]:
    token = csrf_token(client, page)
    return lambda: client.post(url, data={"csrf_token": token})


def registrations(session_id: int) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.session_id == session_id)
            .order_by(Registration.queue_number)
        )
    )


@pytest.mark.slow  # threads on a database of its own
def test_concurrent_registrations_and_cancellations_never_overbook(tmp_path: Path):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        try:
            with app.app_context():
                upgrade(app)
                seed_registry(db.session)
                org = organisation_by_code(db.session, "CDM-PL-NTDM")
                trainer = create_user(
                    db.session, "formatrice@rete-milano.test", "Formatrice", roles=(Role.TRAINER,)
                )
                emails = [f"agente{n}@rete-milano.test" for n in range(PEOPLE + 1)]
                for email in emails:
                    create_user(db.session, email, email.split("@")[0], password=PASSWORD)
                    add_member(
                        db.session,
                        org,
                        email=email,
                        full_name=email,
                        audience_code="polizia_locale",
                    )
                db.session.flush()
                live = create_session(
                    db.session,
                    session_data(trainer, capacity=SEATS, hours=Decimal(3)),
                    actor=trainer,
                )
                db.session.commit()
                session_id = live.id
            clients = [app.test_client() for _ in emails]
            for client, email in zip(clients, emails, strict=True):
                login(client, email, PASSWORD)
            page = f"/live_sessions/{session_id}/"

            # Eight people press "Iscriviti" at the same instant for three seats.
            responses = run_together([post(c, page + "register", page) for c in clients[:PEOPLE]])
            assert [r.status_code for r in responses] == [302] * PEOPLE
            with app.app_context():
                rows = registrations(session_id)
                assert len(rows) == PEOPLE
                assert len({r.queue_number for r in rows}) == PEOPLE
                # Seats went to the first three to take the lock, the rest queue in order.
                assert [r.status for r in rows] == ["confirmed"] * SEATS + ["waitlisted"] * (
                    PEOPLE - SEATS
                )
                assert db.session.get(LiveSession, session_id).confirmed_count == SEATS
                by_user = {r.user_id: r for r in rows}
                waiting = [r.user_id for r in rows if r.status == "waitlisted"]
                confirmed = [r for r in rows if r.status == "confirmed"]
                ids = {u.email: u.id for u in db.session.scalars(select(User))}
                client_of = {ids[e]: c for e, c in zip(emails, clients, strict=True)}

            # Two confirmed people cancel while a ninth person registers, all at once.
            cancels = [
                post(client_of[row.user_id], f"{page}registrations/{row.id}/cancel", page)
                for row in confirmed[:2]
            ]
            responses = run_together([*cancels, post(clients[PEOPLE], page + "register", page)])
            assert [r.status_code for r in responses] == [302] * 3
            with app.app_context():
                rows = registrations(session_id)
                states = {r.user_id: r.status for r in rows if r.status != "cancelled"}
                live = db.session.get(LiveSession, session_id)
                assert live.confirmed_count == SEATS
                assert sum(1 for s in states.values() if s == "confirmed") == SEATS
                # The two freed seats went to the first two in line, never to the newcomer.
                assert states[waiting[0]] == states[waiting[1]] == "confirmed"
                assert all(states[u] == "waitlisted" for u in waiting[2:])
                newcomer = next(r for r in rows if r.user_id not in by_user)
                assert newcomer.status == "waitlisted"
        finally:
            app.extensions["lms"].engine.dispose()
