"""Time on task: heartbeats bounded by the server, and no completion before the minimum.

Clients here are scripts: they post what a browser would (the page's token, the CSRF
header) as fast as they like, with the platform clock moved by the test. Courses declare
a profile asking the whole computed duration (``min_time_share: 1``); their first module
computes to 3 minutes (about 1,600 characters), the others to 1.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from courses.api import study_remaining_seconds
from courses.catalogue import find_module, published_version
from courses.models import ModuleProgress, ProgressStatus
from courses.progress import complete_module
from courses.study import MAX_CREDIT, PAUSE, STALE_AFTER
from lms import clock, db
from lms.accounts.models import User
from lms.errors import ServiceError
from tests.conftest import csrf_token, login, post_form, service_context
from tests.courses.helpers import course_files

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
COURSE = "/courses/corso-prova/"
STUDY_TOKEN_RE = re.compile(r'data-study-token="([^"]+)"')
WHOLE_DURATION = "evidence:\n  base: awareness\n  min_time_share: 1\n"
# About 1,600 characters as read: 3 minutes by the ECM rule (10 minutes per 6,000).
LONG_LESSON = "---\ntitle: Primo\n---\n" + "\n\n".join(
    f"Paragrafo {n} della lezione, letto con attenzione da chi studia." for n in range(25)
)


@pytest.fixture
def course(make_course: Any) -> Any:
    files = course_files(modules=("primo", "secondo", "terzo"), extra=WHOLE_DURATION)
    files["01-primo.md"] = LONG_LESSON.encode()
    return make_course(files)


class Learner:
    """A scripted learner: loads pages, posts heartbeats and completions."""

    def __init__(self, app: Flask, user: User) -> None:
        self.client: FlaskClient = app.test_client()
        self.user = user
        login(self.client, user.email)
        post_form(self.client, COURSE + "enrol", {}, form_url=COURSE)
        self.csrf = csrf_token(self.client, COURSE)

    def open(self, module: str) -> str:
        """The module page's study token, as the page embeds it."""
        page = self.client.get(COURSE + f"modules/{module}")
        assert page.status_code == 200
        found = STUDY_TOKEN_RE.search(page.get_data(as_text=True))
        assert found is not None
        return found.group(1)

    def beat(self, module: str, token: str | None) -> Any:
        data = {} if token is None else {"token": token}
        return self.client.post(
            COURSE + f"modules/{module}/seen", data=data, headers={"X-CSRFToken": self.csrf}
        )

    def complete(self, module: str) -> Any:
        return self.client.post(
            COURSE + f"modules/{module}/complete",
            data={"csrf_token": self.csrf},
            follow_redirects=True,
        )


def tracked(user: User, module: str) -> int:
    seconds = db.session.scalar(
        select(ModuleProgress.time_spent_seconds).where(
            ModuleProgress.user_id == user.id, ModuleProgress.module_slug == module
        )
    )
    return seconds or 0


def status(user: User, module: str) -> str | None:
    return db.session.scalar(
        select(ModuleProgress.status).where(
            ModuleProgress.user_id == user.id, ModuleProgress.module_slug == module
        )
    )


def test_a_script_cannot_complete_a_module_before_its_minimum(app, make_user, course):
    assert course.modules[0].computed_minutes == 3
    clock.set_now(T0)
    user = make_user()
    learner = Learner(app, user)
    token = learner.open("primo")
    # A hundred heartbeats in the same instant, then the button: nothing tracked, refused.
    for _ in range(100):
        assert learner.beat("primo", token).status_code == 200
    answer = learner.beat("primo", token).json
    assert answer["tracked"] == 0 and answer["remaining"] == 180
    assert answer["message"] == "Tempo di studio: 0 min · ancora 3 minuti di studio"
    refused = learner.complete("primo").get_data(as_text=True)
    assert "Prima di completare il modulo servono ancora 3 minuti di studio." in refused
    assert status(user, "primo") == ProgressStatus.IN_PROGRESS
    # A minute of real time, pinged every second: a minute, still refused.
    for _ in range(60):
        clock.advance(dt.timedelta(seconds=1))
        learner.beat("primo", token)
    assert tracked(user, "primo") == 60
    assert "servono ancora 2 minuti" in learner.complete("primo").get_data(as_text=True)
    assert status(user, "primo") == ProgressStatus.IN_PROGRESS


def test_heartbeats_faster_than_real_time_earn_real_time_and_late_ones_are_capped(
    app, make_user, course
):
    clock.set_now(T0)
    user = make_user()
    learner = Learner(app, user)
    token = learner.open("primo")
    learner.beat("primo", token)  # starts the clock: nothing to credit yet
    # Every 5 seconds for two minutes: two minutes.
    for _ in range(24):
        clock.advance(dt.timedelta(seconds=5))
        learner.beat("primo", token)
    assert tracked(user, "primo") == 120
    # One heartbeat four minutes later (a throttled tab, or a script claiming the gap):
    # no more than the cap.
    clock.advance(dt.timedelta(minutes=4))
    answer = learner.beat("primo", token).json
    assert answer["credited"] == MAX_CREDIT.total_seconds() == 60
    assert answer["tracked"] == tracked(user, "primo") == 180
    assert answer["remaining"] == 0 and answer["message"] == "Tempo minimo di studio raggiunto"


def test_two_tabs_earn_real_time_once(app, make_user, course):
    """Two modules open side by side, and the same module in two tabs: the person's
    clock is one, so the pings share real time instead of doubling it."""
    clock.set_now(T0)
    user = make_user()
    learner = Learner(app, user)
    first, second = learner.open("secondo"), learner.open("terzo")
    again = learner.open("secondo")
    learner.beat("secondo", first)
    # Three pages, each pinging every 30 s, staggered by 10 s, for five minutes.
    for _ in range(10):
        for module, token in (("terzo", second), ("secondo", again), ("secondo", first)):
            clock.advance(dt.timedelta(seconds=10))
            learner.beat(module, token)
    assert tracked(user, "secondo") + tracked(user, "terzo") == 300


def test_stale_foreign_and_missing_tokens_are_refused(app, make_user, course):
    clock.set_now(T0)
    user, other = make_user(), make_user()
    learner, stranger = Learner(app, user), Learner(app, other)
    token = learner.open("primo")
    # No token, a forged one, another module's, another person's: 400 with a message.
    for module, given, who in (
        ("primo", None, learner),
        ("primo", token[:-2] + "xx", learner),
        ("secondo", token, learner),
        ("primo", token, stranger),
    ):
        refused = who.beat(module, given)
        assert refused.status_code == 400
        assert refused.json["message"] == (
            "Ricarica la pagina per continuare a registrare il tempo di studio."
        )
    # A page left open longer than the bound: 409, reload; the reloaded page counts.
    learner.beat("primo", token)
    clock.advance(STALE_AFTER + dt.timedelta(seconds=30))
    stale = learner.beat("primo", token)
    assert stale.status_code == 409 and "ricaricala" in stale.json["message"]
    fresh = learner.open("primo")
    assert learner.beat("primo", fresh).status_code == 200
    clock.advance(dt.timedelta(seconds=30))
    assert learner.beat("primo", fresh).json["credited"] == 30
    assert tracked(user, "primo") == 30 and tracked(other, "primo") == 0


def test_an_idle_gap_earns_nothing(app, make_user, course):
    clock.set_now(T0)
    user = make_user()
    learner = Learner(app, user)
    token = learner.open("primo")
    learner.beat("primo", token)
    clock.advance(dt.timedelta(seconds=30))
    assert learner.beat("primo", token).json["credited"] == 30
    # Away longer than the pause (the page stops pinging while idle; a script does not):
    # the heartbeat that comes back restarts the clock and earns nothing.
    clock.advance(PAUSE + dt.timedelta(seconds=1))
    back = learner.beat("primo", token).json
    assert back["credited"] == 0 and back["tracked"] == 30
    clock.advance(dt.timedelta(seconds=30))
    assert learner.beat("primo", token).json["tracked"] == 60


def test_a_module_completes_once_its_time_is_reached(app, make_user, course):
    clock.set_now(T0)
    user = make_user()
    learner = Learner(app, user)
    token = learner.open("primo")
    learner.beat("primo", token)
    for _ in range(5):
        clock.advance(dt.timedelta(seconds=30))
        learner.beat("primo", token)
    assert "serve ancora 1 minuto di studio" in learner.complete("primo").get_data(as_text=True)
    page = learner.client.get(COURSE + "modules/primo").get_data(as_text=True)
    assert "Tempo di studio: 2 min · ancora 1 minuto di studio" in page
    clock.advance(dt.timedelta(seconds=30))
    assert learner.beat("primo", token).json["remaining"] == 0
    done = learner.complete("primo")
    assert done.status_code == 200 and "Modulo completato." in done.get_data(as_text=True)
    assert status(user, "primo") == ProgressStatus.COMPLETED
    page = learner.client.get(COURSE + "modules/primo").get_data(as_text=True)
    assert "Tempo minimo di studio raggiunto" in page


def test_completion_by_a_block_is_refused_before_the_minimum_too(
    app, make_user, course, in_app_context
):
    """A quiz passed calls ``complete_module(..., by_block=True)``: the same rule."""
    user = make_user()
    Learner(app, user)  # enrolled
    with service_context(app):
        version = published_version(db.session, "corso-prova")
        module = find_module(version, "secondo")
        person = db.session.get(User, user.id)
        assert study_remaining_seconds(db.session, person, version, module) == 60
        with pytest.raises(ServiceError, match="serve ancora 1 minuto di studio"):
            complete_module(db.session, person, version, "secondo", by_block=True)
        db.session.rollback()
        progress = db.session.scalar(
            select(ModuleProgress).where(
                ModuleProgress.user_id == user.id, ModuleProgress.module_slug == "secondo"
            )
        )
        if progress is None:  # the refused completion left nothing behind
            progress = ModuleProgress(
                user_id=user.id,
                course_id=version.course_id,
                cycle=1,
                module_slug="secondo",
                started_at=T0,
                last_seen_at=T0,
            )
            db.session.add(progress)
        progress.time_spent_seconds = 60
        db.session.flush()
        assert study_remaining_seconds(db.session, person, version, module) == 0
        complete_module(db.session, person, version, "secondo", by_block=True)
        assert progress.status == ProgressStatus.COMPLETED


def test_a_crediting_heartbeat_reads_once_and_writes_twice(app, make_user, course):
    """The most frequent request: the person (login), one read (enrolment, progress and
    clock together), the clock moved, the time added; nothing else."""
    from tests.bench.test_query_counts import counting

    clock.set_now(T0)
    user = make_user()
    learner = Learner(app, user)
    token = learner.open("primo")
    learner.beat("primo", token)
    clock.advance(dt.timedelta(seconds=30))
    with counting(app) as seen:
        assert learner.beat("primo", token).json["credited"] == 30
    verbs = [s.split(None, 1)[0].upper() for s in seen]
    assert verbs.count("SELECT") == 2 and verbs.count("UPDATE") == 2, seen
    assert not {"INSERT", "DELETE"} & set(verbs)


def test_two_workers_racing_with_the_same_heartbeat_credit_it_once(tmp_path, make_course):
    """Two workers read the person's clock before either moves it (held at a barrier
    right after the read, on a database of their own with real commits): one credits,
    the other earns nothing. PostgreSQL: the conditional UPDATE finds the clock moved;
    SQLite: the loser's write is refused and retried, and the retry finds it moved."""
    import threading

    from sqlalchemy import event

    from courses.enrolment import enrol
    from courses.models import EnrolmentSource
    from courses.study import PageGrant, heartbeat
    from lms.accounts.services import create_user
    from lms.migrate import upgrade
    from tests.conftest import make_test_app, own_database, separate_database

    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        engine = app.extensions["lms"].engine
        try:
            with app.app_context():
                upgrade(app)
                version = make_course(extra=WHOLE_DURATION)
                user = create_user(db.session, "gara@rete-milano.test", "Gara")
                enrolment = enrol(db.session, user, version, source=EnrolmentSource.SELF)
                grant = PageGrant(
                    user.id, version.course_id, "corso-prova", enrolment.cycle, "primo", 60, T0
                )
                heartbeat(db.session, grant, now=T0)
                db.session.commit()
                user_id = user.id

            barrier = threading.Barrier(2)
            local = threading.local()

            def hold_after_reading(_conn, _cursor, statement, *_args):
                reads_clock = statement.lstrip().startswith("SELECT") and (
                    "courses_study_clock" in statement
                )
                if reads_clock and not getattr(local, "held", False):
                    local.held = True
                    barrier.wait(timeout=10)

            credits: list[int] = []
            errors: list[BaseException] = []

            def worker() -> None:
                try:
                    with app.app_context():
                        beat = T0 + dt.timedelta(seconds=30)
                        study = db.commit_with_retries(
                            lambda: heartbeat(db.session, grant, now=beat)
                        )
                        credits.append(study.credited)
                except BaseException as error:  # reported below
                    errors.append(error)

            event.listen(engine, "after_cursor_execute", hold_after_reading)
            try:
                threads = [threading.Thread(target=worker) for _ in range(2)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
            finally:
                event.remove(engine, "after_cursor_execute", hold_after_reading)
            assert not errors, errors
            assert sorted(credits) == [0, 30]
            with app.app_context():
                seconds = db.session.scalar(
                    select(ModuleProgress.time_spent_seconds).where(
                        ModuleProgress.user_id == user_id
                    )
                )
                assert seconds == 30
        finally:
            engine.dispose()
