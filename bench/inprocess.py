"""CPU time and SQL statements per request, in process (Flask test client).

What each page costs one worker, without the load generator, the network or the
other worker on the same two cores: a figure that stays put on a busy machine and
explains the HTTP ratios. Statements are counted with a ``before_cursor_execute``
listener on the platform's engine (BEGIN included on SQLite).

Starts and submits use the last courses' quizzes, so that they never touch what
the HTTP run (which starts from the first courses) will start.
"""

from __future__ import annotations

import re
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.common import big_dashboard_path, log, make_app

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STUDY_TOKEN_RE = re.compile(r'data-study-token="([^"]+)"')


def _login(app: Any, email: str, password: str) -> tuple[Any, str]:
    client = app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/account/login", data={"csrf_token": token, "email": email, "password": password}
    )
    if response.status_code != 302:
        raise RuntimeError(f"in-process login of {email}: {response.status_code}")
    return client, token


class Counter:
    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def _measure(
    name: str, counter: Counter, calls: list[Any], expected: int, warmup: int = 3
) -> dict[str, Any]:
    for call in calls[:warmup]:
        call()
    cpu, wall, statements = [], [], []
    for call in calls[warmup:]:
        before = counter.count
        c0, w0 = time.process_time(), time.perf_counter()
        response = call()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        statements.append(counter.count - before)
        if response.status_code != expected:
            raise RuntimeError(f"{name}: status {response.status_code}, expected {expected}")
    result = {
        "cpu_ms": round(1000 * statistics.median(cpu), 2),
        "cpu_min_ms": round(1000 * min(cpu), 2),
        "wall_ms": round(1000 * statistics.median(wall), 2),
        "statements": max(statements),
        "n": len(cpu),
    }
    log(
        f"in process  {name:<26} {result['cpu_ms']:7.2f} ms CPU  "
        f"{result['statements']:3d} statements"
    )
    return result


def _measure_heartbeat(
    app: Any, counter: Counter, learner: Any, module_path: str, repeat: int
) -> dict[str, Any]:
    """The module page's heartbeat on its crediting path (the most frequent request):
    the platform clock moves 30 s before each one, as between a browser's pings, so
    each credits time and writes. Against the in-process ceiling: a bare Flask
    hello-world through its own test client."""
    import datetime as dt

    from bench.hello import app as hello_app
    from lms import clock

    page = learner.get(module_path).get_data(as_text=True)
    study = STUDY_TOKEN_RE.search(page).group(1)  # type: ignore[union-attr]
    csrf = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    hello = hello_app.test_client()
    ceiling = _measure(
        "hello world (ceiling)", counter, [lambda: hello.get("/")] * (repeat + 3), 200
    )

    def beat() -> Any:
        clock.advance(dt.timedelta(seconds=30))
        return learner.post(
            module_path + "/seen",
            data={"token": study},
            headers={"X-CSRFToken": csrf},
        )

    clock.set_now(clock.now())
    try:
        result = _measure("heartbeat (POST)", counter, [beat] * (repeat + 3), 200)
        credited = learner.post(
            module_path + "/seen", data={"token": study}, headers={"X-CSRFToken": csrf}
        ).get_json()
    finally:
        clock.set_now(None)
    if credited["tracked"] < 30 * repeat:
        raise RuntimeError(f"heartbeats credited {credited['tracked']} s only")
    result["hello_cpu_ms"] = ceiling["cpu_ms"]
    result["ratio_to_hello"] = round(ceiling["cpu_ms"] / result["cpu_ms"], 4)
    return result


def run(report: Any, repeat: int = 30, *, heavy_pages: bool = True) -> dict[str, Any]:
    from sqlalchemy import select

    from bench.answers import correct_responses, form_fields
    from courses.catalogue import published_version
    from courses.models import Module
    from lms import db
    from quizzes.attempts import spec_of
    from quizzes.models import Attempt, AttemptStatus

    app = make_app(Path(report.instance), report.database_url)
    counter = Counter(app.extensions["lms"].engine)
    results: dict[str, Any] = {}
    first = report.course_slugs[0]
    with app.app_context():
        version = published_version(db.session, first)
        module_slug = version.modules[len(version.modules) // 2].slug
    try:
        anonymous = app.test_client()
        results["login"] = _measure(
            "login page (GET)",
            counter,
            [lambda: anonymous.get("/account/login")] * (repeat + 3),
            200,
        )
        learner, _token = _login(app, report.learner_emails[0], report.password)
        for key, name, path in (
            ("floor", "/healthz, logged in", "/healthz"),
            ("course", "course page (GET)", f"/courses/{first}/"),
            ("module", "module page (GET)", f"/courses/{first}/modules/{module_slug}"),
        ):
            results[key] = _measure(
                name, counter, [lambda path=path: learner.get(path)] * (repeat + 3), 200
            )

        results["heartbeat"] = _measure_heartbeat(
            app, counter, learner, f"/courses/{first}/modules/{module_slug}", repeat
        )

        # Starts then submits: the last courses' quizzes, learners taken in turn.
        clients = [_login(app, email, report.password) for email in report.learner_emails[-8:]]
        with app.app_context():
            targets = []
            for slug in reversed(report.course_slugs[-3:]):
                version = published_version(db.session, slug)
                targets += [
                    (slug, m.slug)
                    for m in db.session.scalars(
                        select(Module).where(
                            Module.version_id == version.id, Module.completed_by_block.is_(True)
                        )
                    )
                ]
        calls = []
        for slug, quiz_module in targets:
            for client, token in clients:
                calls.append(
                    lambda c=client, t=token, s=slug, m=quiz_module: c.post(
                        f"/quizzes/{s}/{m}/start", data={"csrf_token": t}
                    )
                )
        calls = calls[: repeat + 3]
        results["quiz_start"] = _measure("quiz start (POST)", counter, calls, 302)
        users = {}
        with app.app_context():
            from lms.accounts.models import User

            emails = report.learner_emails[-8:]
            ids = dict(
                db.session.execute(select(User.email, User.id).where(User.email.in_(emails))).all()
            )
            for email, (client, token) in zip(emails, clients, strict=True):
                users[ids[email]] = (client, token)
            attempts = db.session.scalars(
                select(Attempt)
                .where(Attempt.status == AttemptStatus.OPEN, Attempt.user_id.in_(users))
                .order_by(Attempt.id)
            ).all()
            calls = []
            for attempt in attempts:
                client, token = users[attempt.user_id]
                fields = form_fields(correct_responses(spec_of(attempt.quiz), attempt.presented))
                body = urllib.parse.urlencode([("csrf_token", token), *fields])
                calls.append(
                    lambda c=client, a=attempt.id, b=body: c.post(
                        f"/quizzes/attempts/{a}",
                        data=b,
                        content_type="application/x-www-form-urlencoded",
                    )
                )
        results["quiz_submit"] = _measure("quiz submit (POST)", counter, calls, 302)

        if heavy_pages and app.extensions["lms"].plugin("commitments") is not None:
            referent, _t = _login(app, report.referent_email, report.password)
            path = big_dashboard_path(app, report.big_organisation_id)
            results["dashboard"] = _measure(
                "referent dashboard (GET)",
                counter,
                [lambda: referent.get(path)] * (min(repeat, 5) + 1),
                200,
                warmup=1,
            )
            coordinator, _t = _login(app, report.coordinator_email, report.password)
            results["network"] = _measure(
                "network view (GET)",
                counter,
                [lambda: coordinator.get("/commitments/network/")] * (min(repeat, 3) + 1),
                200,
                warmup=1,
            )
    finally:
        counter.close()
        app.extensions["lms"].engine.dispose()
    return results
