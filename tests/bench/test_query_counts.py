"""SQL statements per page must not grow with the number of staff (issue 7).

Each page is requested with 10 staff in the organisation, then again after 990 more
(with enrolments, progress and completions of their own), and the statements sent
(counted on the platform's engine, savepoints included) must be the same.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select
from werkzeug.datastructures import MultiDict

from bench import coursegen
from bench.answers import correct_responses, form_fields
from courses import packaging
from courses.models import CourseCompletion, CourseVersion, Enrolment, ModuleProgress
from courses.signals import LearningChanges, learning_changed
from lms import db, signals
from lms.accounts.models import Role, User
from lms.organisations.models import Audience, Membership
from lms.organisations.services import organisation_by_code
from tests.conftest import csrf_token, login

ORG = "CDM-PL-NTDM"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.extensions["lms"].engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def course_folder(tmp_path: Path) -> dict[str, bytes]:
    """Four modules, quizzes on the first three (the fourth keeps the course open)."""
    folder = coursegen.write_course(
        tmp_path, random.Random(4), "conteggio-query", modules=4, audiences=["all"], quiz_every=1
    )
    (folder / "004-modulo-004.md").write_text(
        "---\ntitle: Senza quiz\nestimated_minutes: 1\n---\nTesto.\n", encoding="utf-8"
    )
    return packaging.read_folder(folder)


def add_staff(version: CourseVersion, count: int, offset: int) -> None:
    """``count`` members with enrolments, progress and (for half) a completion."""
    org = organisation_by_code(db.session, ORG)
    audience = db.session.scalar(select(Audience.id).where(Audience.code == "polizia_locale"))
    domain = "conteggio.rete-milano.test"
    emails = [f"agente{offset + n}@{domain}" for n in range(count)]
    db.session.execute(
        insert(User),
        [
            {"email": e, "full_name": f"Agente {n}", "password_hash": None, "session_token": "x"}
            for n, e in enumerate(emails)
        ],
    )
    ids = list(db.session.scalars(select(User.id).where(User.email.in_(emails))))
    earlier = NOW - dt.timedelta(days=400)
    db.session.execute(
        insert(Membership),
        [
            {
                "user_id": i,
                "organisation_id": org.id,
                "audience_id": audience,
                "created_at": earlier,
            }
            for i in ids
        ],
    )
    db.session.execute(
        insert(Enrolment),
        [
            {"user_id": i, "course_id": version.course_id, "source": "referent", "cycle": 1}
            for i in ids
        ],
    )
    db.session.execute(
        insert(ModuleProgress),
        [
            {
                "user_id": i,
                "course_id": version.course_id,
                "cycle": 1,
                "module_slug": m.slug,
                "status": "completed",
                "started_at": earlier,
                "last_seen_at": earlier,
                "completed_at": earlier,
            }
            for i in ids
            for m in version.modules
        ],
    )
    db.session.execute(
        insert(CourseCompletion),
        [
            {
                "user_id": i,
                "course_id": version.course_id,
                "version_id": version.id,
                "cycle": 1,
                "completed_at": earlier,
                "expires_at": NOW + dt.timedelta(days=300),
            }
            for i in ids[::2]
        ],
    )
    # Loaded around courses' services: announced, so derived data (standings) is rebuilt.
    signals.send(learning_changed, session=db.session, changes=LearningChanges(everyone=True))
    db.session.commit()


def statements_per_page(
    app: Flask, clients: dict[str, FlaskClient], slug: str, quiz_module: str, org_id: int
) -> dict[str, int]:
    """Statements of each page; requests run outside any app context of ours, as in
    production (each gets its own context and session)."""
    learner = clients["learner"]
    pages = {
        "course": (learner, f"/courses/{slug}/"),
        "module": (learner, f"/courses/{slug}/modules/{quiz_module}"),
        "quiz": (learner, f"/quizzes/{slug}/{quiz_module}/"),
    }
    if "referent" in clients:
        pages["dashboard"] = (clients["referent"], f"/commitments/organisations/{org_id}/")
        pages["network"] = (clients["coordinator"], "/commitments/network/")
    counts: dict[str, int] = {}
    for name, (client, path) in pages.items():
        with counting(app) as seen:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(seen)

    token = csrf_token(learner, f"/quizzes/{slug}/{quiz_module}/")
    with counting(app) as seen:
        started = learner.post(f"/quizzes/{slug}/{quiz_module}/start", data={"csrf_token": token})
    assert started.status_code == 302, started.status_code
    counts["quiz start"] = len(seen)

    attempt_url = started.headers["Location"]
    attempt_id = int(attempt_url.rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        from quizzes.attempts import spec_of
        from quizzes.models import Attempt

        attempt = db.session.get(Attempt, attempt_id)
        fields = form_fields(correct_responses(spec_of(attempt.quiz), attempt.presented))
    with counting(app) as seen:
        submitted = learner.post(attempt_url, data=MultiDict([("csrf_token", token), *fields]))
    assert submitted.status_code == 302, submitted.status_code
    assert submitted.headers["Location"].endswith("/result")
    counts["quiz submit"] = len(seen)
    return counts


@pytest.mark.slow  # a query-count bench at 1,000 staff
def test_statements_per_page_do_not_grow_with_staff(
    app: Flask, make_user: Any, make_course: Any, tmp_path: Path
) -> None:
    with_commitments = app.extensions["lms"].plugin("commitments") is not None
    with app.app_context():
        version = make_course(course_folder(tmp_path))
        version_id, slug = version.id, version.course.slug
        modules = [m.slug for m in version.modules]
        org_id = organisation_by_code(db.session, ORG).id
        add_staff(version, 10, 0)
        if with_commitments:
            from tests.commitments.helpers import make_commitment

            make_commitment([version], organisation=ORG)
            db.session.commit()

    learner = make_user(org=ORG)
    with app.app_context():
        from courses.catalogue import published_version
        from courses.enrolment import enrol
        from courses.models import EnrolmentSource

        enrol(
            db.session,
            db.session.get(User, learner.id),
            published_version(db.session, slug),
            source=EnrolmentSource.SELF,
        )
        db.session.commit()
    clients = {"learner": app.test_client()}
    login(clients["learner"], learner.email)
    if with_commitments:
        referent = make_user(org=ORG, audience="amministrazione", referent=True)
        coordinator = make_user(roles=(Role.COORDINATOR,))
        clients["referent"], clients["coordinator"] = app.test_client(), app.test_client()
        login(clients["referent"], referent.email)
        login(clients["coordinator"], coordinator.email)

    # The learner's first activity writes their commitment standing (a few statements
    # more, once); warm it up so that both measurements see the same learner state.
    statements_per_page(app, clients, slug, modules[2], org_id)
    few = statements_per_page(app, clients, slug, modules[0], org_id)
    with app.app_context():
        add_staff(db.session.get(CourseVersion, version_id), 990, 10)
    many = statements_per_page(app, clients, slug, modules[1], org_id)
    assert few == many
    expected = {"course", "module", "quiz", "quiz start", "quiz submit"}
    if with_commitments:
        expected |= {"dashboard", "network"}
    assert set(few) == expected
