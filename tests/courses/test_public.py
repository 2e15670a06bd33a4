"""The public path (issue 15): read without an account, with nothing recorded."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from courses import packaging
from courses.format import parse_bundle
from courses.models import Enrolment, ModuleProgress
from lms import db
from lms.audit import AuditEntry
from lms.errors import FormatError
from tests.conftest import login
from tests.courses.helpers import course_files

PUBLIC = "public: true\nevidence: awareness\n"


def _records() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(Enrolment.id))),
        db.session.scalar(select(func.count(ModuleProgress.id))),
        db.session.scalar(select(func.count(AuditEntry.id))),
    )


def test_visitor_reads_the_public_path_from_the_home_page_and_nothing_is_recorded(
    app: Flask, make_course
):
    make_course(slug="pubblico", title="Percorso aperto", modules=("alfa", "beta"), extra=PUBLIC)
    client = app.test_client()
    with app.app_context():
        before = _records()
    home = client.get("/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "/courses/public/pubblico/" in page and "Percorso aperto" in page
    assert "/certificates/verify" in page and "/account/login" in page
    course = client.get("/courses/public/pubblico/").get_data(as_text=True)
    assert "/courses/public/pubblico/alfa" in course and "/courses/public/pubblico/beta" in course
    lesson = client.get("/courses/public/pubblico/alfa")
    text = lesson.get_data(as_text=True)
    assert lesson.status_code == 200 and "Testo della lezione alfa." in text
    # No study clock, no page token, no progress script: the page tracks nothing.
    assert "data-study-token" not in text and "progress.js" not in text
    assert 'rel="next"' in text and "/courses/public/pubblico/beta" in text
    with app.app_context():
        assert _records() == before


def test_quiz_of_a_public_module_is_not_in_its_page(app: Flask, make_course):
    make_course(slug="pubblico-quiz", modules=("alfa",), quiz_modules=("alfa",), extra=PUBLIC)
    page = app.test_client().get("/courses/public/pubblico-quiz/alfa").get_data(as_text=True)
    assert "Lezione con quiz." in page and "Vero?" not in page and "answer" not in page


def test_courses_that_are_not_public_are_not_there(app: Flask, make_course, make_user):
    make_course(slug="riservato", title="Corso riservato", modules=("alfa",))
    client = app.test_client()
    assert client.get("/courses/public/riservato/").status_code == 404
    assert client.get("/courses/public/riservato/alfa").status_code == 404
    assert client.get("/courses/public/inesistente/").status_code == 404
    make_course(slug="aperto", modules=("alfa",), extra=PUBLIC)
    assert client.get("/courses/public/aperto/nessuno").status_code == 404
    assert "Corso riservato" not in client.get("/").get_data(as_text=True)
    # Signed in, the home page is the dashboard, not the visitors' page.
    user = make_user()
    login(client, user.email)
    assert "/courses/public/aperto/" not in client.get("/").get_data(as_text=True)


def test_public_flag_is_read_checked_and_exported(app: Flask):
    with app.app_context():
        bundle = parse_bundle(course_files(extra=PUBLIC), ["polizia_locale"])
        assert bundle.public is True
        assert parse_bundle(course_files(), []).public is False
        with pytest.raises(FormatError) as error:
            parse_bundle(course_files(extra="public: sì\n"), [])
        assert any("'public' deve essere true o false" in str(i) for i in error.value.issues)


def test_public_flag_survives_export(app: Flask, make_course):
    version = make_course(slug="esportato", modules=("alfa",), extra=PUBLIC)
    with app.app_context():
        version = db.session.merge(version)
        exported = packaging.version_files(version)["course.md"].decode()
    assert "public: true" in exported
