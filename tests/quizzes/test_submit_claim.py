"""Submit's claim (issue 21, item 5): one UPDATE that returns what it wrote, instead of an
UPDATE and a re-read; the attempt then holds exactly what the database holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from werkzeug.datastructures import MultiDict

from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import db
from quizzes import attempts as service
from quizzes.models import Attempt, AttemptStatus
from quizzes.views import read_responses
from tests.conftest import login
from tests.quizzes.helpers import answers, quiz_course_files, start, submit

# What ``session.refresh(attempt, SUBMITTED_COLUMNS)`` sent after the UPDATE.
REREAD = "SELECT quizzes_attempt.status, quizzes_attempt.submitted_at, quizzes_attempt.percent"


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = app.extensions["lms"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def learner(app: Flask, make_user, make_course):
    user = make_user()
    version = make_course(quiz_course_files())
    enrol(db.session, user, version, source=EnrolmentSource.SELF)
    db.session.commit()
    client = app.test_client()
    login(client, user.email)
    return user, client


def _stored(attempt_id: int) -> tuple[Any, ...]:
    """The submitted columns as a fresh read of the database gives them."""
    columns = [getattr(Attempt, name) for name in service.SUBMITTED_COLUMNS]
    return tuple(db.session.execute(select(*columns).where(Attempt.id == attempt_id)).one())


def test_the_attempt_holds_what_the_update_wrote(app: Flask, learner) -> None:
    user, client = learner
    attempt_id, html = start(client)
    responses = read_responses(MultiDict(answers(html, right=True)))
    with app.test_request_context():  # its end removes the session: check inside
        with statements(app) as seen:
            attempt = service.submit_attempt(db.session, user, attempt_id, responses)
        held = tuple(getattr(attempt, name) for name in service.SUBMITTED_COLUMNS)
        assert attempt.status == AttemptStatus.SUBMITTED and attempt.passed
        assert held == _stored(attempt_id)
    writes = [s for s in seen if s.startswith("UPDATE quizzes_attempt")]
    assert len(writes) == 1 and "RETURNING" in writes[0]
    assert not [s for s in seen if s.startswith(REREAD)]  # the UPDATE returned it


def test_a_claim_lost_to_another_request_returns_the_first_result(app: Flask, learner) -> None:
    user, client = learner
    attempt_id, html = start(client)
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == AttemptStatus.OPEN  # held as open by this session
    # Another request submits first (failing), behind this session's back.
    db.session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id)
        .values(status=AttemptStatus.SUBMITTED, passed=False, percent=0, result={"x": 1})
        .execution_options(synchronize_session=False)
    )
    responses = read_responses(MultiDict(answers(html, right=True)))
    with app.test_request_context():
        returned = service.submit_attempt(db.session, user, attempt_id, responses)
        assert returned.status == AttemptStatus.SUBMITTED
        assert returned.passed is False and returned.result == {"x": 1}
        stored = _stored(attempt_id)
        assert tuple(getattr(returned, n) for n in service.SUBMITTED_COLUMNS) == stored


def test_submit_through_the_page_sends_no_reread(app: Flask, learner) -> None:
    _user, client = learner
    attempt_id, html = start(client)
    with statements(app) as seen:
        response = submit(client, attempt_id, answers(html, right=True))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/result")
    assert not [s for s in seen if s.startswith(REREAD)]
    assert db.session.get(Attempt, attempt_id).passed
