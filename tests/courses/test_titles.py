"""Issue 16: course and module titles are one line, in course.md and in the web editor."""

from __future__ import annotations

import pytest
from flask import Flask

from courses import authoring
from courses.format import parse_bundle
from lms import db
from lms.accounts.models import Role
from lms.errors import FormatError
from tests.conftest import login, post_form
from tests.courses.helpers import course_files

MESSAGE = "'title' non può contenere a capo: scrivilo su una riga."


@pytest.mark.parametrize("brk", ["\\n", "\\r\\n", "\\u2028", "\\x85"])
@pytest.mark.usefixtures("in_app_context")
def test_course_title_with_a_line_break_is_reported_with_file_and_line(brk):
    files = course_files(title=f"Prima riga{brk}VALIDO / VALID")  # a YAML escape in quotes
    with pytest.raises(FormatError) as caught:
        parse_bundle(files, {"polizia_locale"})
    assert [(i.file, i.line, i.message) for i in caught.value.issues] == [("course.md", 3, MESSAGE)]


@pytest.mark.usefixtures("in_app_context")
def test_module_title_with_a_control_character_is_reported():
    files = course_files()
    files["01-primo.md"] = files["01-primo.md"].replace(
        b"title: Primo", b'title: "Primo\\u001b[31m"'
    )
    with pytest.raises(FormatError) as caught:
        parse_bundle(files, {"polizia_locale"})
    [issue] = caught.value.issues
    assert (issue.file, issue.line) == ("01-primo.md", 2)
    assert "carattere non ammesso (U+001B)" in issue.message


@pytest.mark.usefixtures("in_app_context")
def test_titles_are_normalised_and_summaries_keep_their_lines():
    files = course_files(title="  Corso   di prova ")
    files["course.md"] = files["course.md"].replace(
        b"summary: Un corso di prova.", b'summary: "Prima riga.\\nSeconda riga."'
    )
    bundle = parse_bundle(files, {"polizia_locale"})
    assert bundle.title == "Corso di prova" and bundle.summary == "Prima riga.\nSeconda riga."


def test_trainer_pasting_a_module_title_with_a_line_break_is_told_to_remove_it(
    app: Flask, make_user, make_course
):
    trainer = make_user(roles=(Role.TRAINER,))
    make_course(user=trainer)
    client = app.test_client()
    login(client, trainer.email)
    page = "/courses/author/corso-prova/modules/primo"
    refused = post_form(
        client, page, {"title": "Primo\r\nrivisto", "estimated_minutes": "10", "body": "a\nb"}
    )
    assert refused.status_code == 200
    assert "Il titolo non può contenere a capo: scrivilo su una riga." in refused.get_data(
        as_text=True
    )
    course = authoring.get_course(db.session, "corso-prova")
    assert authoring.get_draft(db.session, course.id) is None
