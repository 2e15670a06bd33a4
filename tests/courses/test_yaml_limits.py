"""Hostile YAML in a course (issue 16, point 2): refused by its limits, never a crash.

An alias bomb ran minutes and gigabytes in ``lms courses import``; nesting 1,000 levels
deep raised ``RecursionError`` (a traceback on the command line, 500 on the web). Each
attack is tried in the three places a course carries YAML: the front matter of
``course.md``, the front matter of a module and a module's quiz block.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from courses import authoring, packaging
from lms import db
from lms.accounts.models import Role
from lms.errors import FormatError
from tests.conftest import csrf_token, login
from tests.core.yaml_attacks import ALIAS_BUDGET, ATTACKS
from tests.courses.helpers import course_files

PLACES = ("course.md", "01-primo.md", "quiz")
# 100,000 "[" on one line of a module body also meet courses.format's link patterns, which
# take seconds on such a line (quadratic, reported apart): in the quiz block that attack is
# tried in tests/quizzes/test_yaml_limits.py, and here in its block form.
CASES = [
    (attack, place)
    for attack in ATTACKS
    for place in PLACES
    if (attack, place) != ("nested-100000", "quiz")
]


def hostile_course(attack: str, place: str) -> dict[str, bytes]:
    """A valid course with ``attack`` (top-level YAML keys) added in ``place``."""
    if place == "course.md":
        return course_files(extra=attack)
    files = course_files()
    if place == "01-primo.md":
        files["01-primo.md"] = (
            f"---\ntitle: Primo\nestimated_minutes: 10\n{attack}---\nTesto.\n".encode()
        )
    else:
        files["01-primo.md"] = (
            "---\ntitle: Primo\nestimated_minutes: 10\n---\nTesto.\n\n```quiz\n"
            f"{attack}questions:\n  - {{id: q1, type: true_false, text: Vero?, answer: true}}\n"
            "```\n"
        ).encode()
    return files


def expected_file(place: str) -> str:
    return "course.md" if place == "course.md" else "01-primo.md"


@pytest.mark.parametrize(("attack", "place"), CASES)
@pytest.mark.usefixtures("in_app_context")
def test_service_refuses_with_file_line_and_reason(attack: str, place: str):
    source, reason = ATTACKS[attack]
    with pytest.raises(FormatError) as caught:
        authoring.import_files(db.session, hostile_course(source, place), user=None, publish=True)
    found = [i for i in caught.value.issues if reason in i.message]
    assert found, [str(i) for i in caught.value.issues]
    assert found[0].file == expected_file(place)
    assert found[0].line is not None and found[0].line >= 2


@pytest.mark.parametrize(("attack", "place"), CASES)
def test_cli_import_says_why_and_exits_1_without_traceback(
    app: Flask, tmp_path: Path, attack: str, place: str
):
    source, reason = ATTACKS[attack]
    packaging.write_folder(hostile_course(source, place), tmp_path / "corso")
    result = app.test_cli_runner().invoke(
        args=["lms", "courses", "import", str(tmp_path / "corso"), "--publish"]
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Importazione annullata" in result.output
    assert f"{expected_file(place)}:" in result.output
    assert reason in result.output
    assert "Traceback" not in result.output


def test_the_bomb_is_refused_by_the_budget_not_by_a_timeout(app: Flask, tmp_path: Path):
    """The message names the budget, so the refusal is the limit's doing, not luck."""
    source, _reason = ATTACKS["alias-bomb"]
    packaging.write_folder(hostile_course(source, "course.md"), tmp_path / "corso")
    result = app.test_cli_runner().invoke(args=["lms", "courses", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert ALIAS_BUDGET in result.output


def _zip(files: dict[str, bytes]) -> io.BytesIO:
    """Stored, not deflated: 100,000 brackets would trip the compression-ratio check first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in files.items():
            archive.writestr(f"corso/{name}", content)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(("attack", "place"), [c for c in CASES if c[1] != "01-primo.md"])
def test_trainer_upload_answers_422_with_the_reason(app: Flask, make_user, attack: str, place: str):
    source, reason = ATTACKS[attack]
    trainer = make_user(roles=(Role.TRAINER,))
    client = app.test_client()
    login(client, trainer.email)
    response = client.post(
        "/courses/author/upload",
        data={
            "csrf_token": csrf_token(client, "/courses/author/"),
            "archive": (_zip(hostile_course(source, place)), "corso.zip"),
            "publish": "y",
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"{expected_file(place)}:" in html and reason in html
