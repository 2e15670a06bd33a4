"""An installation that leaves the plugin out (``LMS_PLUGINS``): no requirement on
completion, and the course page's include of the questionnaire link is skipped."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from courses.api import COMPLETION_REQUIREMENTS
from lms.plugins import registry
from tests.conftest import login, make_test_app


def test_without_the_plugin_courses_complete_and_the_page_renders(
    app: Flask, tmp_path: Path, make_user, make_course, finish
):
    bare = make_test_app(tmp_path, app.config["LMS_DATABASE_URL"], LMS_PLUGINS="courses")
    bare.extensions["lms"].engine = app.extensions["lms"].engine
    assert "surveys" not in bare.extensions
    assert registry(COMPLETION_REQUIREMENTS, bare).keys() == []
    assert registry(COMPLETION_REQUIREMENTS, app).keys()[-1] == "surveys.answered"

    person = make_user()
    version = make_course()
    finish(person, version)
    client = bare.test_client()
    login(client, person.email)
    page = client.get(f"/courses/{version.course.slug}/")
    assert page.status_code == 200
    assert "questionario" not in page.get_data(as_text=True)
