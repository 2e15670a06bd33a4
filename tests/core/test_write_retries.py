"""A write that loses a race to a long writer is retried until it gets its turn.

SQLite refuses at once (no busy wait) to upgrade a read transaction to a write
while another connection writes; backing off alone gives up if the other writer
holds its lock longer than the back-off budget (~1.5 s). ``commit_with_retries``
therefore begins its retries with ``BEGIN IMMEDIATE``, which waits (busy timeout)
for the lock. PostgreSQL writers of different rows never conflict: both commit
at the first attempt.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from lms import db
from lms.migrate import upgrade
from lms.throttle import ThrottleEvent
from tests.conftest import make_test_app, own_database, separate_database

HOLD_SECONDS = 3.0  # longer than all the back-off sleeps together


@pytest.mark.slow  # waits for a lock
def test_a_writer_that_lost_the_race_waits_for_the_lock_and_commits(tmp_path: Path):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        engine = app.extensions["lms"].engine
        begins: list[str] = []

        def seen(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
            if statement.startswith("BEGIN"):
                begins.append(statement)

        try:
            with app.app_context():
                upgrade(app)
            event.listen(engine, "before_cursor_execute", seen)
            first_wrote = threading.Event()
            attempts = {"long": 0, "late": 0}
            errors: list[BaseException] = []

            def long_writer() -> None:
                def action() -> None:
                    attempts["long"] += 1
                    db.session.add(ThrottleEvent(scope="retry-test", key="long"))
                    db.session.flush()
                    first_wrote.set()
                    time.sleep(HOLD_SECONDS)

                run(action)

            def late_writer() -> None:
                first_wrote.wait(timeout=10)

                def action() -> None:
                    attempts["late"] += 1
                    db.session.scalar(select(func.count(ThrottleEvent.id)))  # a read first
                    db.session.add(ThrottleEvent(scope="retry-test", key="late"))
                    db.session.flush()

                run(action)

            def run(action) -> None:  # noqa: ANN001
                try:
                    with app.app_context():
                        db.commit_with_retries(action)
                except BaseException as error:  # reported below
                    errors.append(error)

            threads = [threading.Thread(target=long_writer), threading.Thread(target=late_writer)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            assert errors == []
            with app.app_context():
                keys = set(db.session.scalars(select(ThrottleEvent.key)))
            assert keys == {"long", "late"}
            assert attempts["long"] == 1
            if engine.dialect.name == "sqlite":
                assert attempts["late"] == 2  # refused once, then waited its turn
                assert "BEGIN IMMEDIATE" in begins
            else:
                assert attempts["late"] == 1
        finally:
            event.remove(engine, "before_cursor_execute", seen)
            engine.dispose()
