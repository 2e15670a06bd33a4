"""Two requests making the same badge at once store one (issue 20, item 3): real threads,
a database of their own; the loser's savepoint meets the UNIQUE (certificate, subject)
constraint and it returns the winner's row. On SQLite the write lock serialises them."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from certificates import openbadges
from certificates.models import Certificate, OpenBadge
from lms import db
from lms.accounts.services import create_user
from lms.migrate import upgrade
from lms.signals import completion_recorded
from tests.certificates.conftest import event_for
from tests.conftest import make_test_app, own_database, separate_database

WORKERS = 4


def test_concurrent_requests_store_one_badge(tmp_path: Path):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        try:
            with app.app_context():
                upgrade(app)
                user = create_user(db.session, "badge@rete-milano.test", "Persona in Gara")
                event = event_for(user)
                completion_recorded.send(app, session=db.session, event=event)
                db.session.commit()
                cert_id = db.session.scalar(
                    select(Certificate.id).where(Certificate.completion_ref == event.completion_ref)
                )
            barrier = threading.Barrier(WORKERS)
            made: list[tuple[int, str]] = []
            errors: list[BaseException] = []

            def worker() -> None:
                try:
                    with app.app_context():
                        barrier.wait(timeout=20)
                        # As every request that may write does (BEGIN IMMEDIATE on
                        # SQLite, which serialises the workers; nothing on PostgreSQL,
                        # where the losers meet the constraint).
                        db.begin_writing()
                        cert = db.session.get(Certificate, cert_id)
                        badge = openbadges.badge_for(db.session, cert)
                        db.session.commit()
                        made.append((badge.id, badge.jwt))
                except BaseException as error:  # reported with the others
                    errors.append(error)

            threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == []
            assert len(made) == WORKERS
            assert len(set(made)) == 1  # every request got the one stored badge
            with app.app_context():
                assert db.session.scalar(select(func.count(OpenBadge.id))) == 1
        finally:
            app.extensions["lms"].engine.dispose()
