"""Two workers complete two courses of one person at the same moment.

Each thread records one completion and holds its transaction open until both
have written theirs; then both commit, and each commit recomputes the person's
standing. Neither may fail and the stored standing must be what a rebuild
computes from the committed facts: on PostgreSQL (READ COMMITTED) the second
recomputation would otherwise meet the first one's row or miss its completion;
the advisory locks in ``commitments.standing`` serialise them. On SQLite the
write lock serialises the workers before they meet (the barrier times out).
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import suppress
from pathlib import Path

from commitments import standing
from courses.enrolment import enrol
from courses.models import CourseVersion, EnrolmentSource
from courses.progress import complete_module
from lms import db
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.migrate import upgrade
from tests.commitments.helpers import make_commitment, one_module
from tests.commitments.test_standing import stored_standings
from tests.conftest import make_test_app, own_database, separate_database

PEOPLE = 3


def test_simultaneous_completions_leave_the_standing_a_rebuild_would_compute(
    tmp_path: Path, make_course
):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        try:
            with app.app_context():
                upgrade(app)
                versions = [
                    make_course(**one_module("corso-a", "Corso A")),
                    make_course(**one_module("corso-b", "Corso B")),
                ]
                make_commitment(versions, target=80)
                version_ids = [v.id for v in versions]
                user_ids = []
                for n in range(PEOPLE):
                    user = create_user(db.session, f"gara{n}@rete-milano.test", f"Gara {n}")
                    for version in versions:
                        enrol(db.session, user, version, source=EnrolmentSource.SELF)
                    user_ids.append(user.id)
                db.session.commit()

            errors: list[BaseException] = []
            # SQLite refuses the second writer at once (no busy wait on a read-to-write
            # upgrade): hold the lock briefly, so that its retries outlast the wait.
            wait = 0.3 if url.startswith("sqlite") else 5.0
            for user_id in user_ids:
                barrier = threading.Barrier(2)

                def worker(version_id: int, user_id: int = user_id, barrier=barrier) -> None:
                    try:
                        with app.app_context():

                            def complete() -> None:
                                user = db.session.get(User, user_id)
                                version = db.session.get(CourseVersion, version_id)
                                now = dt.datetime.now(dt.UTC)
                                complete_module(db.session, user, version, "primo", now=now)
                                # SQLite: the other worker waits for our write lock instead
                                with suppress(threading.BrokenBarrierError):
                                    barrier.wait(timeout=wait)

                            # As the views do: a lost SQLite write race is run again.
                            db.commit_with_retries(complete)
                    except BaseException as error:  # reported below, with the others
                        errors.append(error)

                threads = [threading.Thread(target=worker, args=(v,)) for v in version_ids]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
            assert errors == []

            with app.app_context():
                stored = stored_standings()
                assert {(row[1], row[2]) for row in stored} == {(u, True) for u in user_ids}
                standing.rebuild(db.session)
                assert stored_standings() == stored
                db.session.rollback()
        finally:
            app.extensions["lms"].engine.dispose()
