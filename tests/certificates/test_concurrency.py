"""Concurrent completions of one completion_ref: real threads, a database of their own.

Each thread is a worker recording the same completion in its own transaction,
as two gunicorn workers would after a double submit: it writes its completion
row first (a throttle event stands in for the courses plugin's row), then the
signal issues the certificate, then it commits. Exactly one certificate must
come out, and no worker may fail. On PostgreSQL the losers meet the UNIQUE
constraint and fall back to the winner's row; on SQLite the write lock
serialises them. The first use of the signing keys races too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from certificates.models import Certificate, SigningKeyRecord
from lms import db
from lms.accounts.services import create_user
from lms.migrate import upgrade
from lms.signals import CompletionEvent, completion_recorded
from lms.throttle import ThrottleEvent
from tests.certificates.conftest import event_for
from tests.conftest import make_test_app, own_database, separate_database

WORKERS = 4
ROUNDS = 3


def race(app: Flask, event: CompletionEvent) -> tuple[list[int], list[BaseException]]:
    """WORKERS threads record ``event`` at the same moment; the ids they end up with."""
    barrier = threading.Barrier(WORKERS)
    issued: list[int] = []
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=20)
                db.session.add(ThrottleEvent(scope="test-completion", key=str(number)))
                db.session.flush()
                completion_recorded.send(app, session=db.session, event=event)
                db.session.commit()
                issued.append(
                    db.session.scalar(
                        select(Certificate.id).where(
                            Certificate.completion_ref == event.completion_ref
                        )
                    )
                )
        except BaseException as error:  # reported by the test, with the others
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return issued, errors


def count(model_column: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count(model_column)).where(*where)) or 0)


def test_concurrent_completion_issues_exactly_one_certificate(tmp_path: Path):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        try:
            with app.app_context():
                upgrade(app)
                user = create_user(db.session, "gara@rete-milano.test", "Persona in Gara")
                db.session.commit()
            for round_number in range(ROUNDS):
                event = event_for(user, completion_ref=f"course-completion:race-{round_number}")
                issued, errors = race(app, event)
                assert not errors, errors
                assert len(issued) == WORKERS and len(set(issued)) == 1  # all got the same one
                with app.app_context():
                    ref = Certificate.completion_ref == event.completion_ref
                    assert count(Certificate.id, ref) == 1
                    completions = ThrottleEvent.scope == "test-completion"
                    assert count(ThrottleEvent.id, completions) == WORKERS * (round_number + 1)
            with app.app_context():
                assert len(set(db.session.scalars(select(Certificate.key_id)))) == 1
                # racing workers agreed on one signing key, kept in the database
                assert count(SigningKeyRecord.key_id) == 1
        finally:
            app.extensions["lms"].engine.dispose()
