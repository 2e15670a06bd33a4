"""The quiz pages as people read them: Bootstrap Italia's form checks with the label beside
the input, no style attribute (strict CSP), counts in their plural form, numbers in the
locale's format."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import db
from tests.conftest import login
from tests.quizzes.helpers import answers, quiz_course_files, start, submit

QUIZ_PAGE = "/quizzes/corso-quiz/triage/"


@pytest.fixture
def learner(app: Flask, make_user, make_course):
    def setup(**quiz):
        user = make_user()
        version = make_course(quiz_course_files(**quiz))
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        db.session.commit()
        client = app.test_client()
        login(client, user.email)
        return user, client

    return setup


def flat(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", html)


def test_answers_are_form_checks_with_their_label_beside_the_input(learner):
    _user, client = learner()
    _attempt_id, html = start(client)
    inputs = re.findall(r'<input class="form-check-input" type="(radio|checkbox)"[^>]*>', html)
    # codice: 2 options, obi: true/false; garanzie: 3 boxes
    assert inputs.count("radio") == 4 and inputs.count("checkbox") == 3
    for match in re.finditer(r'<input class="form-check-input"[^>]* id="([^"]+)"[^>]*>', html):
        after = html[match.end() :]
        assert after.startswith(f'<label class="form-check-label" for="{match.group(1)}">')
        wrapper = html[: match.start()].rsplit("<div", 1)[1]
        assert wrapper.startswith(' class="form-check">')
    assert 'type="radio"' not in html.replace('class="form-check-input" type="radio"', "")
    assert " style=" not in html
    bar = re.search(r'<div class="progress" id="quiz-progress-bar"[^>]*>', html)
    assert bar and 'aria-valuemax="4"' in bar.group(0) and 'aria-valuenow="0"' in bar.group(0)
    assert "4 domande" in html and html.count('<div class="card card-bg mb-3">') == 4


def test_the_style_sheet_for_progress_widths_is_served(learner):
    _user, client = learner()
    page = client.get(QUIZ_PAGE).get_data(as_text=True)
    href = re.search(r'href="([^"]+quizzes\.css)"', page)
    assert href
    response = client.get(href.group(1))
    css = response.get_data(as_text=True)
    response.close()  # a static file response holds the file open until closed
    assert ".qz-w-0 " in css and ".qz-w-100 " in css and ".qz-w-55 " in css


def test_counts_take_their_plural_form(learner):
    _user, client = learner(attempts=3, cooldown=1)
    page = flat(client.get(QUIZ_PAGE).get_data(as_text=True))
    assert "0 tentativi usati su 3" in page and "ne restano 3 su 3" in page
    assert "Attesa tra i tentativi: 1 minuto" in page and "1 minuti" not in page
    attempt_id, html = start(client)
    submit(client, attempt_id, answers(html, right=False))
    page = flat(client.get(QUIZ_PAGE).get_data(as_text=True))
    assert "1 tentativo usato su 3" in page and "ne restano 2 su 3" in page
    assert "Puoi riprovare tra 1 minuto." in page
    assert 'aria-valuenow="1" aria-valuemin="0" aria-valuemax="3"' in page
    assert 'class="progress-bar qz-w-30"' in page  # 1 of 3, in steps of 5
    assert '<span class="badge bg-danger">non superato</span>' in page
    assert " style=" not in page


def test_one_attempt_left_is_said_in_the_singular(learner):
    _user, client = learner(attempts=1)
    page = flat(client.get(QUIZ_PAGE).get_data(as_text=True))
    assert "ne resta 1 su 1" in page and "0 tentativi usati su 1" in page


def test_scores_in_the_locales_format(learner):
    user, client = learner()
    attempt_id, html = start(client)
    submit(client, attempt_id, answers(html, right=False))
    result = f"/quizzes/attempts/{attempt_id}/result"
    page = client.get(result).get_data(as_text=True)
    assert "0\u00a0% (soglia 75\u00a0%)" in page  # Italian: a no-break space before %
    assert 'class="alert alert-danger" role="status"' in page
    quiz_page = client.get(QUIZ_PAGE).get_data(as_text=True)
    assert "Soglia per superarlo: 75\u00a0%" in quiz_page
    user.locale = "en"
    db.session.commit()
    page = client.get(result).get_data(as_text=True)
    assert re.search(r"0% \([^)]* 75%\)", page) and "\u00a0%" not in page
