"""Answering the questionnaire: it gates completion and the certificate, once per version,
only for who finished the course, and stores nothing about the person with the answers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from certificates.models import Certificate
from courses.api import CourseCompletion, complete_module
from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import clock, db
from lms.errors import Forbidden, ServiceError
from surveys.models import SurveyMarker, SurveyResponse
from tests.conftest import login, post_form, service_context
from tests.surveys.conftest import SURVEY_REQUIRED

SOME_FORM = "/account/password"  # any page with a form: its CSRF token is the session's
FORM = {
    "q_rilevanza": "4",
    "q_qualita": "5",
    "q_utilita": "3",
    "q_indipendenza": "5",
    "q_commento": "Molto utile per il lavoro di sportello.",
}


def completions(user_id: int) -> list[CourseCompletion]:
    return list(
        db.session.scalars(select(CourseCompletion).where(CourseCompletion.user_id == user_id))
    )


def course_certificates(user_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.user_id == user_id, Certificate.kind == "course")
        )
    )


def responses() -> int:
    return db.session.scalar(select(func.count()).select_from(SurveyResponse)) or 0


def test_the_answers_complete_the_course_and_issue_its_certificate(
    client, make_user, make_course, finish
):
    person = make_user(org="CDM-PL-NTDM")
    version = make_course(extra=SURVEY_REQUIRED)
    assert finish(person, version) is None  # every module done, the questionnaire not yet
    assert completions(person.id) == [] and course_certificates(person.id) == []

    login(client, person.email)
    home = client.get("/").get_data(as_text=True)
    assert "Compila il questionario di gradimento" in home
    assert f"/surveys/{version.course_id}/" in home
    url = f"/surveys/{version.course_id}/"
    course_page = client.get(f"/courses/{version.course.slug}/").get_data(as_text=True)
    assert "manca il questionario di gradimento" in course_page
    assert f'href="{url}"' in course_page
    page = client.get(url)
    assert page.status_code == 200
    assert "rispetto alle tue necessità di aggiornamento" in page.get_data(as_text=True)

    sent = post_form(client, url, FORM)
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/courses/{version.course.slug}/")
    [completion] = completions(person.id)
    assert completion.version_id == version.id
    [certificate] = course_certificates(person.id)
    assert certificate.title == version.title
    assert "Compila il questionario" not in client.get("/").get_data(as_text=True)
    course_page = client.get(f"/courses/{version.course.slug}/").get_data(as_text=True)
    assert "Compila il questionario" not in course_page and "Completato il" in course_page


def test_without_the_requirement_the_course_completes_and_the_survey_stays_open(
    client, make_user, make_course, finish
):
    person = make_user()
    version = make_course()
    assert finish(person, version) is not None
    login(client, person.email)
    assert post_form(client, f"/surveys/{version.course_id}/", FORM).status_code == 302
    assert responses() == 1
    assert len(completions(person.id)) == 1  # not twice


def test_the_answers_carry_course_version_organisation_type_and_month_only(
    make_user, make_course, finish, answer
):
    person = make_user(org="ASST-NIGUARDA")
    version = make_course(extra=SURVEY_REQUIRED)
    finish(person, version)
    with clock.frozen(dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)):
        assert answer(person, version, commento="  Ottimo.  ") is not None
    [response] = db.session.scalars(select(SurveyResponse)).all()
    assert (response.course_id, response.version_id, response.version_number) == (
        version.course_id,
        version.id,
        version.number,
    )
    assert response.organisation_type == "sociosanitario"
    assert response.month == "2026-03"
    assert len(response.id) == 32 and not response.id.isdigit()  # random, not a sequence
    stored = {a.question_key: (a.score, a.comment) for a in response.answers}
    assert stored == {
        "rilevanza": (4, None),
        "qualita": (5, None),
        "utilita": (3, None),
        "indipendenza": (5, None),
        "commento": (None, "Ottimo."),
    }
    [marker] = db.session.scalars(select(SurveyMarker)).all()
    assert (marker.user_id, marker.version_id) == (person.id, version.id)


def test_nobody_answers_twice(client, make_user, make_course, finish, answer):
    person = make_user()
    version = make_course(extra=SURVEY_REQUIRED)
    finish(person, version)
    answer(person, version)
    with pytest.raises(ServiceError, match="già compilato"):
        answer(person, version)
    assert responses() == 1
    login(client, person.email)
    again = client.get(f"/surveys/{version.course_id}/")
    assert again.status_code == 302 and again.headers["Location"].endswith("/surveys/")
    refused = post_form(client, f"/surveys/{version.course_id}/", FORM, form_url=SOME_FORM)
    assert refused.status_code == 302
    assert responses() == 1
    assert len(completions(person.id)) == 1 and len(course_certificates(person.id)) == 1


def test_only_who_finished_the_course_may_answer(app, make_user, make_course, answer):
    version = make_course(extra=SURVEY_REQUIRED)
    stranger, halfway = make_user(), make_user()
    with service_context(app):
        enrol(db.session, halfway, version, source=EnrolmentSource.SELF)
        complete_module(db.session, halfway, version, version.modules[0].slug)
        db.session.commit()
    url = f"/surveys/{version.course_id}/"
    for person in (stranger, halfway):
        with pytest.raises(Forbidden):
            answer(person, version)
        client = app.test_client()
        login(client, person.email)
        assert client.get(url).status_code == 403
        assert post_form(client, url, FORM, form_url=SOME_FORM).status_code == 403
        assert client.get("/surveys/999999/").status_code == 404
        assert "Compila il questionario" not in client.get("/surveys/").get_data(as_text=True)
    assert responses() == 0


def test_a_score_missing_shows_the_form_again_and_stores_nothing(
    client, make_user, make_course, finish
):
    person = make_user()
    version = make_course(extra=SURVEY_REQUIRED)
    finish(person, version)
    login(client, person.email)
    url = f"/surveys/{version.course_id}/"
    page = post_form(client, url, {**FORM, "q_utilita": ""})
    assert page.status_code == 200
    assert "Scegli un valore da 1 a 5." in page.get_data(as_text=True)
    assert post_form(client, url, {**FORM, "q_utilita": "6"}).status_code == 200
    assert responses() == 0 and completions(person.id) == []
