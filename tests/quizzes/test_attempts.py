"""Attempts through the web: no answers in the page, tamper-proof scoring, completion."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from courses import authoring
from courses.enrolment import enrol
from courses.models import EnrolmentSource
from courses.progress import progress_for
from lms import db
from lms.signals import completion_recorded
from quizzes import attempts as service
from quizzes.models import Attempt, AttemptAnswer, AttemptStatus
from tests.conftest import csrf_token, login, post_form
from tests.quizzes.helpers import answers, quiz_course_files, start, submit


@pytest.fixture
def learner(app: Flask, make_user, make_course):
    def setup(**quiz):
        user = make_user()
        version = make_course(quiz_course_files(**quiz))
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        db.session.commit()
        client = app.test_client()
        login(client, user.email)
        return user, version, client

    return setup


def test_attempt_page_never_contains_the_answers(learner):
    _user, _version, client = learner()
    _attempt_id, html = start(client)
    # Random tokens (CSRF, per-attempt option tokens) may hold "o2" by chance: not answers.
    html = re.sub(r'value="[A-Za-z0-9_.:-]{20,}"', 'value=""', html)
    for secret in (
        "SEGRETO-FEEDBACK-BIANCO",
        "SEGRETO-FEEDBACK-GENERALE",
        "RISPOSTA-SEGRETA-DA5",
        "correct",
        "o1",
        "o2",
        "feedback",
    ):
        assert secret not in html, secret
    assert "Codice giallo" in html and "Stanza dedicata" in html
    assert html.count("<fieldset") == 4 and "<legend>" in html


def test_fail_then_pass_completes_module_and_course(learner, app):
    events = []
    completion_recorded.connect(receiver := lambda sender, **kw: events.append(kw["event"]))
    try:
        user, version, client = learner()
        attempt_id, html = start(client)
        failed = submit(client, attempt_id, answers(html, right=False))
        result = client.get(failed.headers["Location"]).get_data(as_text=True)
        assert "Quiz non superato" in result
        assert "SEGRETO-FEEDBACK-BIANCO" in result and "SEGRETO-FEEDBACK-GENERALE" in result
        assert "RISPOSTA-SEGRETA-DA5" not in result  # answers only after passing
        attempt_id, html = start(client)
        passed = submit(client, attempt_id, answers(html, right=True))
        result = client.get(passed.headers["Location"]).get_data(as_text=True)
        assert "Quiz superato" in result and "RISPOSTA-SEGRETA-DA5" in result
        progress = progress_for(db.session, user.id, version)
        assert progress.status_of("triage") == "completed" and progress.completion is not None
        assert len(events) == 1 and events[0].title == "Corso con quiz"
    finally:
        completion_recorded.disconnect(receiver)


def test_scores_partial_credit_exactly(learner):
    _user, _version, client = learner()
    attempt_id, html = start(client)
    data = answers(html, right=True)
    data["q::garanzie"] = data["q::garanzie"][:1]  # 1 of 2 right options: half credit
    submit(client, attempt_id, data)
    attempt = db.session.get(Attempt, attempt_id)
    assert float(attempt.percent) == pytest.approx(87.5)  # 3.5 of 4 points
    assert attempt.passed


def test_double_submit_returns_the_same_result(learner):
    _user, _version, client = learner()
    attempt_id, html = start(client)
    first = submit(client, attempt_id, answers(html, right=False))
    second = submit(client, attempt_id, answers(html, right=True))  # replay, other answers
    assert first.headers["Location"] == second.headers["Location"]
    attempt = db.session.get(Attempt, attempt_id)
    assert not attempt.passed
    assert db.session.scalar(select(func.count(Attempt.id))) == 1
    assert db.session.scalar(select(func.count(AttemptAnswer.id))) == 4


def test_forged_option_is_rejected_and_attempt_stays_open(learner):
    _user, _version, client = learner()
    attempt_id, html = start(client)
    data = answers(html, right=True)
    data["q::codice"] = "deadbeef"
    response = submit(client, attempt_id, data)
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Risposte non valide" in page and "domanda 1" in page
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.OPEN


def test_extra_question_is_rejected(learner):
    _user, _version, client = learner()
    attempt_id, html = start(client)
    data = answers(html, right=True) | {"q::domanda-inventata": "x"}
    submit(client, attempt_id, data)
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.OPEN


def test_option_of_another_question_is_rejected(learner):
    _user, _version, client = learner()
    attempt_id, html = start(client)
    data = answers(html, right=True)
    data["q::codice"] = data["q::garanzie"][0]
    submit(client, attempt_id, data)
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.OPEN


def test_someone_elses_attempt_is_refused(learner, app, make_user):
    _user, _version, client = learner()
    attempt_id, html = start(client)
    intruder = make_user()
    other = app.test_client()
    login(other, intruder.email)
    assert other.get(f"/quizzes/attempts/{attempt_id}").status_code == 404
    response = other.post(
        f"/quizzes/attempts/{attempt_id}",
        data={"csrf_token": csrf_token(other, "/"), **answers(html, right=True)},
    )
    assert response.status_code == 404
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.OPEN


def test_attempt_limit_is_enforced(learner):
    _user, _version, client = learner(attempts=1)
    attempt_id, html = start(client)
    submit(client, attempt_id, answers(html, right=False))
    response = post_form(
        client,
        "/quizzes/corso-quiz/triage/start",
        {},
        form_url="/quizzes/corso-quiz/triage/",
        follow_redirects=True,
    )
    assert "Hai esaurito i tentativi" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_cooldown_is_enforced(learner):
    _user, _version, client = learner(cooldown=10)
    attempt_id, html = start(client)
    submit(client, attempt_id, answers(html, right=False))
    response = post_form(
        client,
        "/quizzes/corso-quiz/triage/start",
        {},
        form_url="/quizzes/corso-quiz/triage/",
        follow_redirects=True,
    )
    assert "Puoi riprovare tra 10 minuti" in response.get_data(as_text=True)


def test_expired_attempt_cannot_be_submitted(learner):
    user, version, client = learner(extra="time_limit_minutes: 5")
    attempt_id, html = start(client)
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    db.session.commit()
    response = submit(client, attempt_id, answers(html, right=True))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "tempo a disposizione è scaduto" in page
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.EXPIRED
    progress = progress_for(db.session, user.id, version)
    assert progress.status_of("triage") == "not_started"


def test_within_grace_is_accepted(learner):
    _user, _version, client = learner(extra="time_limit_minutes: 5")
    attempt_id, html = start(client)
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)
    db.session.commit()
    submit(client, attempt_id, answers(html, right=True))
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.SUBMITTED


def test_closed_attempt_cannot_be_submitted(learner):
    user, version, client = learner()
    attempt_id, html = start(client)
    service.void_attempts(db.session, user.id, version.course_id, "triage")
    db.session.commit()
    submit(client, attempt_id, answers(html, right=True))
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status == AttemptStatus.VOIDED
    assert db.session.scalar(select(func.count(AttemptAnswer.id))) == 0


def test_module_with_quiz_cannot_be_marked_complete_by_hand(learner):
    _user, _version, client = learner()
    page = "/courses/corso-quiz/modules/triage"
    response = post_form(client, page + "/complete", {}, form_url=page, follow_redirects=True)
    assert "si completa superando il quiz" in response.get_data(as_text=True)


@pytest.mark.usefixtures("in_app_context")
def test_broken_quiz_block_fails_import_with_line():
    from lms.errors import FormatError

    files = quiz_course_files()
    files["01-triage.md"] = files["01-triage.md"].replace(b"type: true_false", b"type: vero_falso")
    with pytest.raises(FormatError) as caught:
        authoring.import_files(db.session, files, user=None, publish=True)
    issue = caught.value.issues[0]
    assert issue.file == "01-triage.md" and issue.line == 32  # the "type:" line
