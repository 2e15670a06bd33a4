"""Attempts that prove learning (issue 14, item 4): the evidence profile's rules on the server.

Study time before the quiz and again after a failure, attempts with the same questions
limited and fresh draws beyond, questions and options in random order, right answers only
once the course is complete. The test app's installation profile asks for none of these:
each test declares a profile in course.md (or sets the installation's).
"""

from __future__ import annotations

import random
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from courses.enrolment import enrol
from courses.models import CourseCompletion, EnrolmentSource, ModuleProgress
from lms import db
from quizzes.models import Attempt
from quizzes.rules import AttemptRules, can_draw_fresh, fresh_draw, may_go_beyond, stricter
from quizzes.scoring import present_attempt
from quizzes.spec import QuizSpec
from tests.conftest import login, post_form
from tests.quizzes.helpers import (
    answers,
    bank_course_files,
    parse,
    quiz_course_files,
    start,
    submit,
)

QUIZ_PAGE = "/quizzes/corso-quiz/triage/"
MODULE_PAGE = "/courses/corso-quiz/modules/triage"
# An adjusted profile without study time, for the tests of other rules.
NO_TIME = "  min_time_share: 0\n  survey_required: false\n"
PROFESSIONAL_NO_TIME = "evidence:\n  base: professional\n" + NO_TIME
ECM_NO_TIME = "evidence:\n  base: ecm_fad\n" + NO_TIME
# As ecm_fad asks, the module's whole minimum again after a failure.
FULL_REREAD = "evidence:\n  base: professional\n  reread_share: 1\n"
# About 900 characters: 2 minutes computed (600 a minute, rounded up).
LONG_LESSON = "Il triage in pronto soccorso assegna un codice di priorità. " * 15


@pytest.fixture
def learner(app: Flask, make_user, make_course):
    def setup(files: dict[str, bytes]):
        user = make_user()
        version = make_course(files)
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        db.session.commit()
        client = app.test_client()
        login(client, user.email)
        return user, version, client

    return setup


def study(user, version, seconds: int, module_slug: str = "triage") -> None:
    """Give the learner this much tracked time on the module (as heartbeats would)."""
    row = db.session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user.id,
            ModuleProgress.course_id == version.course_id,
            ModuleProgress.module_slug == module_slug,
        )
    )
    if row is None:
        row = ModuleProgress(
            user_id=user.id, course_id=version.course_id, cycle=1, module_slug=module_slug
        )
        db.session.add(row)
    row.time_spent_seconds = seconds
    db.session.commit()


def try_start(client):
    """What a script does: post to start, with a token from any page; follow the answer."""
    return post_form(client, QUIZ_PAGE + "start", {}, form_url="/", follow_redirects=True)


def attempt_count() -> int:
    return db.session.scalar(select(func.count(Attempt.id))) or 0


def fail(client) -> int:
    attempt_id, _html = start(client)
    submit(client, attempt_id, {})  # nothing answered: 0 %
    return attempt_id


def text(html: str) -> str:
    return re.sub(r"\s+", " ", html)


# --- study time before the first attempt ------------------------------------------------


def test_a_script_cannot_start_the_quiz_before_the_modules_minimum_time(learner):
    user, version, client = learner(
        quiz_course_files(5, course_extra="evidence: professional\n", lesson=LONG_LESSON)
    )
    assert version.modules[0].computed_minutes == 2  # professional: all of it, 120 s
    response = try_start(client)
    page = text(response.get_data(as_text=True))
    assert "Prima del quiz servono ancora 2 minuti di studio del modulo." in page
    assert attempt_count() == 0

    study(user, version, 61)
    page = text(client.get(QUIZ_PAGE).get_data(as_text=True))
    assert "Prima del quiz serve ancora 1 minuto di studio del modulo." in page
    assert "Inizia il tentativo" not in page and f'href="{MODULE_PAGE}"' in page
    try_start(client)
    assert attempt_count() == 0

    study(user, version, 120)
    assert "Inizia il tentativo" in client.get(QUIZ_PAGE).get_data(as_text=True)
    attempt_id, _html = start(client)
    assert db.session.get(Attempt, attempt_id).studied_seconds == 120


# --- re-reading after a failed attempt ---------------------------------------------------


def test_a_new_attempt_after_a_failure_needs_the_module_read_again(learner):
    user, version, client = learner(
        quiz_course_files(5, course_extra="evidence: professional\n", lesson=LONG_LESSON)
    )
    study(user, version, 150)  # 120 s needed, 30 more spent
    attempt_id, html = start(client)
    submit(client, attempt_id, answers(html, right=False))
    assert db.session.get(Attempt, attempt_id).studied_seconds == 150

    response = try_start(client)  # professional: half the minimum again, 60 s
    page = text(response.get_data(as_text=True))
    message = (
        "Prima di un nuovo tentativo ripassa il contenuto del modulo: "
        "serve ancora 1 minuto di studio."
    )
    assert message in page and f'href="{MODULE_PAGE}"' in page
    assert attempt_count() == 1

    study(user, version, 209)
    assert message in text(try_start(client).get_data(as_text=True))
    assert attempt_count() == 1

    study(user, version, 210)
    attempt_id, html = start(client)
    assert attempt_count() == 2
    submit(client, attempt_id, answers(html, right=True))
    assert db.session.get(Attempt, attempt_id).passed


def test_re_reading_counts_from_the_time_recorded_at_submission(learner):
    user, version, client = learner(
        quiz_course_files(5, course_extra=FULL_REREAD, lesson=LONG_LESSON)
    )
    study(user, version, 120)
    attempt_id, _html = start(client)
    study(user, version, 300)  # read on while the attempt was open
    submit(client, attempt_id, {})
    assert db.session.get(Attempt, attempt_id).studied_seconds == 300
    page = text(try_start(client).get_data(as_text=True))
    assert "servono ancora 2 minuti di studio." in page  # the whole minimum again
    study(user, version, 420)
    start(client)
    assert attempt_count() == 2


# --- attempt limit and fresh draws ----------------------------------------------------------


def test_ecm_quiz_refuses_a_sixth_attempt_when_the_bank_cannot_give_new_questions(
    learner, app, monkeypatch
):
    # A course published before the installation asked for ECM rules (the importer
    # refuses such a bank in a course that declares them): 4 questions, all drawn.
    user, version, client = learner(bank_course_files(4))
    monkeypatch.setitem(
        app.config, "LMS_EVIDENCE_PROFILE", {"base": "ecm_fad", "min_time_share": 0}
    )
    page = text(client.get(QUIZ_PAGE).get_data(as_text=True))
    assert "ne restano 5 su 5" in page
    for _ in range(5):
        fail(client)
    assert attempt_count() == 5
    page = text(try_start(client).get_data(as_text=True))
    assert (
        "Hai esaurito i 5 tentativi con le stesse domande e il quiz non ha abbastanza "
        "domande per un tentativo con domande nuove." in page
    )
    assert "Inizia il tentativo" not in page
    assert attempt_count() == 5


def test_ecm_quiz_draws_at_least_a_third_new_questions_beyond_five_attempts(learner):
    # 10 of 14 drawn: ceil(0.33 × 10) = 4 new, so each fresh draw holds all 4 left out of
    # the previous attempt (a plain random draw does so about once in five).
    _user, _version, client = learner(bank_course_files(14, draw=10, course_extra=ECM_NO_TIME))
    page = text(client.get(QUIZ_PAGE).get_data(as_text=True))
    # text() folds the no-break space Italian puts before "%" into a space
    assert "Dal 6° tentativo in poi, almeno il 33 % delle domande è diverso" in page
    for _ in range(9):
        fail(client)
    attempts = db.session.scalars(select(Attempt).order_by(Attempt.number)).all()
    assert [a.number for a in attempts] == list(range(1, 10))
    drawn = [[q["id"] for q in a.presented["questions"]] for a in attempts]
    assert all(len(ids) == 10 for ids in drawn)
    for previous, current in zip(drawn[4:], drawn[5:], strict=False):
        new = set(current) - set(previous)
        assert len(new) / len(current) >= 0.33 and len(new) == 4, (previous, current)


def test_the_quizs_own_stricter_limit_holds(learner):
    _user, _version, client = learner(
        bank_course_files(9, draw=3, attempts=2, course_extra=ECM_NO_TIME)
    )
    fail(client)
    fail(client)
    page = text(try_start(client).get_data(as_text=True))
    assert "Hai esaurito i tentativi disponibili." in page
    assert attempt_count() == 2


def test_voided_attempts_stop_counting_under_the_profile(learner):
    from quizzes import attempts as service

    user, version, client = learner(bank_course_files(4, attempts=5, course_extra=ECM_NO_TIME))
    for _ in range(5):
        fail(client)
    assert "Hai esaurito" in try_start(client).get_data(as_text=True)
    service.void_attempts(db.session, user.id, version.course_id, "triage")
    db.session.commit()
    start(client)
    assert attempt_count() == 6


def test_limits_combine_and_fresh_draws_need_the_bank():
    assert stricter(5, 0) == 5 and stricter(0, 3) == 3 and stricter(5, 3) == 3
    assert stricter(0, 0) == 0
    spec = QuizSpec.from_dict(_bank_spec(9, draw=6))
    rules = AttemptRules(5, 0, _third(), True, True, 0, 0)
    assert may_go_beyond(rules, spec)
    assert not may_go_beyond(AttemptRules(5, 5, _third(), True, True, 0, 0), spec)
    assert not may_go_beyond(AttemptRules(5, 0, _third() * 0, True, True, 0, 0), spec)
    # ceil(0.33 × 6) = 2 new questions: 9 - 6 = 3 are not in an attempt of 6.
    previous = {"b1", "b2", "b3", "b4", "b5", "b6"}
    assert can_draw_fresh(spec, previous, rules.fresh_share)
    for seed in range(50):
        drawn = [q.id for q in fresh_draw(spec, previous, rules.fresh_share, random.Random(seed))]
        assert len(drawn) == 6 and len(set(drawn) - previous) >= 2, drawn
    full = QuizSpec.from_dict(_bank_spec(4))
    assert not can_draw_fresh(full, {"b1", "b2", "b3", "b4"}, rules.fresh_share)
    # draw_tags limit what is eligible: only tagged questions count as new.
    tagged = QuizSpec.from_dict(_bank_spec(9, draw=6) | {"draw_tags": ["t"]})
    assert not may_go_beyond(rules, tagged)


def _third():
    from fractions import Fraction

    return Fraction("0.33")


def _bank_spec(size: int, draw: int | None = None) -> dict:
    questions = [
        {
            "id": f"b{n}",
            "type": "single",
            "text": f"Domanda {n}?",
            "tags": ["t"] if n <= 6 else [],
            "options": [
                {"id": "o1", "text": "Giusta", "correct": True},
                {"id": "o2", "text": "Sbagliata"},
            ],
        }
        for n in range(1, size + 1)
    ]
    return {"questions": questions, "draw": draw}


# --- random order --------------------------------------------------------------------------


SHUFFLE_OFF = """
shuffle_options: false
questions:
  - id: uno
    type: single
    text: Uno?
    options: [{text: A1, correct: true}, {text: B1}, {text: C1}, {text: D1}]
  - id: due
    type: single
    text: Due?
    options: [{text: A2, correct: true}, {text: B2}, {text: C2}, {text: D2}]
  - id: tre
    type: single
    text: Tre?
    options: [{text: A3, correct: true}, {text: B3}, {text: C3}, {text: D3}]
  - id: quattro
    type: single
    text: Quattro?
    options: [{text: A4, correct: true}, {text: B4}, {text: C4}, {text: D4}]
"""


def orders(presented: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    questions = tuple(q["id"] for q in presented["questions"])
    options = tuple(o["text"] for q in presented["questions"] for o in q["options"])
    return questions, options


def test_the_profile_shuffles_questions_and_options_whatever_the_quiz_says():
    spec = parse(SHUFFLE_OFF)
    plain = {orders(present_attempt(spec, random.Random(seed))) for seed in range(10)}
    assert plain == {
        (("uno", "due", "tre", "quattro"), tuple(f"{x}{n}" for n in range(1, 5) for x in "ABCD"))
    }
    shuffled = [orders(present_attempt(spec, random.Random(seed), shuffle=True)) for seed in (1, 2)]
    assert shuffled[0][0] != shuffled[1][0]  # question order differs between the seeds
    assert shuffled[0][1] != shuffled[1][1]  # and so does option order
    many = [orders(present_attempt(spec, random.Random(s), shuffle=True)) for s in range(20)]
    assert len({q for q, _o in many}) > 5 and len({o for _q, o in many}) > 5
    # Same seed, same presentation: what the attempt freezes can be reproduced.
    again = present_attempt(spec, random.Random(1), shuffle=True)
    assert orders(again) == shuffled[0]


def test_an_attempt_under_the_profile_freezes_the_shuffled_order(learner):
    files = bank_course_files(
        6, attempts=5, course_extra=PROFESSIONAL_NO_TIME, extra="shuffle_options: false"
    )
    _user, version, client = learner(files)
    attempt_id, html = start(client)
    attempt = db.session.get(Attempt, attempt_id)
    spec = QuizSpec.from_dict(attempt.quiz.spec)
    assert not spec.shuffle_options
    expected = present_attempt(spec, random.Random(attempt.seed), shuffle=True)
    assert attempt.presented == expected
    shown = re.findall(r"Domanda (\d+)\?", html)
    assert shown == [q["id"][1:] for q in attempt.presented["questions"]]


# --- right answers only after the course -----------------------------------------------------


def verdicts(html: str) -> list[str]:
    return [
        text(h).strip() for h in re.findall(r'<h2 id="r-\d+" class="h3">(.*?)</h2>', html, re.S)
    ]


def test_results_reveal_nothing_of_the_right_answers_before_the_course_is_complete(learner):
    files = quiz_course_files(5, course_extra=PROFESSIONAL_NO_TIME)
    files["02-dopo.md"] = b"---\ntitle: Dopo\nestimated_minutes: 1\n---\nUltimo modulo.\n"
    user, version, client = learner(files)
    failed_id, html = start(client)
    submit(client, failed_id, answers(html, right=False))
    failed_page = f"/quizzes/attempts/{failed_id}/result"

    def hides_everything(page: str) -> None:
        for secret in (
            "SEGRETO-FEEDBACK-BIANCO",
            "SEGRETO-FEEDBACK-GENERALE",
            "RISPOSTA-SEGRETA-DA5",
            "Risposta corretta",
            'class="feedback"',
            'class="correct-answer"',
        ):
            assert secret not in page, secret
        assert verdicts(page) == [f"Domanda {n}" for n in range(1, 5)]
        assert "saranno visibili quando avrai completato il corso" in page

    page = client.get(failed_page).get_data(as_text=True)
    assert "Quiz non superato" in page and "punteggio 0\u00a0%" in page  # Italian: 0 %
    hides_everything(page)

    passed_id, html = start(client)
    submit(client, passed_id, answers(html, right=True))
    passed_page = f"/quizzes/attempts/{passed_id}/result"
    page = client.get(passed_page).get_data(as_text=True)
    assert "Quiz superato" in page
    hides_everything(page)  # the module is done, the course is not
    hides_everything(client.get(failed_page).get_data(as_text=True))

    post_form(
        client,
        "/courses/corso-quiz/modules/dopo/complete",
        {},
        form_url="/courses/corso-quiz/modules/dopo",
    )
    assert (
        db.session.scalar(
            select(func.count(CourseCompletion.id)).where(CourseCompletion.user_id == user.id)
        )
        == 1
    )
    page = client.get(failed_page).get_data(as_text=True)
    assert "SEGRETO-FEEDBACK-BIANCO" in page and "SEGRETO-FEEDBACK-GENERALE" in page
    assert "RISPOSTA-SEGRETA-DA5" in page and "Risposta corretta" in page
    assert "Domanda 1 — non corretta" in verdicts(page)
    assert "saranno visibili" not in page
    page = client.get(passed_page).get_data(as_text=True)
    assert "Domanda 1 — corretta" in verdicts(page) and "RISPOSTA-SEGRETA-DA5" in page


def test_without_the_rule_the_quiz_settings_decide(learner):
    # The test installation's profile leaves answers to the quiz: feedback after each attempt.
    _user, _version, client = learner(quiz_course_files())
    attempt_id, html = start(client)
    submit(client, attempt_id, answers(html, right=False))
    page = client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "SEGRETO-FEEDBACK-BIANCO" in page and "Domanda 1 — non corretta" in verdicts(page)
    assert "RISPOSTA-SEGRETA-DA5" not in page  # answers only after passing
