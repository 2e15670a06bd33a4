"""Durations computed from the content by the ECM rule, and the cap on declared ones.

The rule (Agenas, FAD): 10 minutes per 6,000 characters of text, 2 minutes per table or
image, rounded up to the minute; a declaration may add up to +50 % of further study.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from courses.durations import (
    Duration,
    course_hours,
    course_minutes,
    measure_html,
    module_minutes,
)
from courses.format import lesson_duration, parse_bundle
from courses.models import CourseVersion, Module
from lms.errors import FormatError
from tests.courses.helpers import course_files

pytestmark = pytest.mark.usefixtures("in_app_context")

TABLE = "| a | b |\n| --- | --- |\n| 1 | 2 |\n"


def test_six_thousand_characters_are_ten_minutes():
    duration = lesson_duration("a" * 6000 + "\n")
    assert duration == Duration(characters=6000, tables=0, images=0)
    assert duration.minutes == 10


def test_one_character_more_rounds_up_to_the_next_minute():
    # 6,001 / 600 = 10.0017 minutes: 11 whole minutes.
    assert lesson_duration("a" * 6001 + "\n").minutes == 11


def test_text_table_and_images_add_up():
    # 3,000 characters = 5 minutes; 1 table = 2; 2 images = 4: 11 minutes.
    body = "b" * 3000 + "\n\n" + TABLE + "\n![uno](images/a.png)\n\n![due](images/b.png)\n"
    duration = lesson_duration(body)
    assert (duration.characters, duration.tables, duration.images) == (3000, 1, 2)
    assert duration.minutes == 11


def test_empty_lesson_is_zero_minutes():
    assert lesson_duration("") == Duration(0, 0, 0)
    assert lesson_duration("\n\n").minutes == 0


def test_only_a_table_is_two_minutes_and_its_cells_are_not_text():
    duration = lesson_duration(TABLE)
    assert duration == Duration(characters=0, tables=1, images=0)
    assert duration.minutes == 2


def test_markdown_syntax_and_tags_are_not_read():
    # "Titolo" (6) + space + "grassetto e link" (16): 23 characters as displayed.
    duration = lesson_duration("## Titolo\n\n**grassetto** e [link](https://example.org)\n")
    assert duration.characters == 23 and duration.minutes == 1


def test_the_quiz_is_not_learning_material():
    quiz = "```quiz\nquestions:\n  - id: q\n    type: true_false\n    text: Vero?\n"
    body = "c" * 600 + "\n\n" + quiz + "    answer: true\n```\n"
    duration = lesson_duration(body)
    assert duration.characters == 600 and duration.minutes == 1


def test_entities_count_as_one_character_and_blank_runs_as_one():
    assert measure_html("<p>a &amp; b</p>\n\n<p>c</p>").characters == len("a & b c")


def _issues(files: dict[str, bytes]) -> list[tuple[str, int | None, str]]:
    with pytest.raises(FormatError) as caught:
        parse_bundle(files, [])
    return [(i.file, i.line, i.message) for i in caught.value.issues]


def _module(minutes: str, body: str) -> bytes:
    return f"---\ntitle: Primo\n{minutes}---\n{body}".encode()


def test_declared_minutes_up_to_half_more_are_accepted():
    # 7,200 characters = 12 minutes; 12 + 50 % = 18.
    files = course_files(modules=("primo",))
    files["01-primo.md"] = _module("estimated_minutes: 18\n", "d" * 7200 + "\n")
    module = parse_bundle(files, []).modules[0]
    assert module.duration.minutes == 12 and module.estimated_minutes == 18


def test_declared_minutes_above_the_cap_are_refused_with_the_numbers():
    files = course_files(modules=("primo",))
    files["01-primo.md"] = _module("estimated_minutes: 45\n", "d" * 7200 + "\n")
    assert _issues(files) == [
        (
            "01-primo.md",
            3,
            "estimated_minutes: 45 supera la durata calcolata dal contenuto (12 min, al "
            "massimo 18 min con l'approfondimento): togli la chiave o indica al massimo 18",
        )
    ]


def test_declared_hours_above_the_cap_are_refused_with_the_numbers():
    # Two modules of 7,200 characters: 24 minutes; + 50 % = 36 minutes = 0.6 hours.
    files = course_files()
    for name in ("01-primo.md", "02-secondo.md"):
        files[name] = _module("", "e" * 7200 + "\n")
    files["course.md"] = files["course.md"].replace(
        b"# estimated_hours: facoltativa", b"estimated_hours: 0.6"
    )
    assert parse_bundle(files, []).estimated_hours == Decimal("0.60")
    files["course.md"] = files["course.md"].replace(b"0.6", b"2.5")
    assert _issues(files) == [
        (
            "course.md",
            6,
            "estimated_hours: 2,5 supera la durata calcolata dai moduli (24 min, al massimo "
            "0,6 h con l'approfondimento): togli la chiave o indica al massimo 0,6",
        )
    ]


def test_durations_are_optional_and_stored_at_import(make_course):
    files = course_files()
    files["01-primo.md"] = _module("", "f" * 1800 + "\n\n" + TABLE)  # 3 + 2 = 5 minutes
    version = make_course(files)
    assert version.estimated_hours == 0 and version.modules[0].estimated_minutes == 0  # none
    assert [m.computed_minutes for m in version.modules] == [5, 1]
    assert version.computed_minutes == 6 and course_minutes(version) == 6
    assert course_hours(version) == Decimal("0.10")  # 6 / 60


def test_shown_duration_is_the_declared_one_when_present():
    version = CourseVersion(estimated_hours=Decimal("0.25"), computed_minutes=11)
    assert course_minutes(version) == 15 and course_hours(version) == Decimal("0.25")
    version.estimated_hours = Decimal(0)  # none declared
    assert course_hours(version) == Decimal("0.18")  # 11 / 60 = 0.1833
    module = Module(estimated_minutes=0, computed_minutes=7)
    assert module_minutes(module) == 7
    module.estimated_minutes = 9
    assert module_minutes(module) == 9


def test_migration_measures_existing_modules_from_their_stored_html(tmp_path):
    """Revision 0011 on a database with a course: 1,200 characters and a table (2 + 2
    minutes) and an image alone (2 minutes) give 4 + 2 = 6 for the version; going back
    to 0010 fills the then-required declarations from the computed minutes. Modules
    survive (a rebuilt courses_version would have cascaded them away on SQLite)."""
    from alembic import command
    from sqlalchemy import text

    from lms.migrate import alembic_config
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, f"sqlite:///{tmp_path / 'migrated.db'}")
    config = alembic_config(app)
    engine = app.extensions["lms"].engine
    command.upgrade(config, "0010")
    now = "2026-01-01 00:00:00.000000"
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO courses_course (id, slug, created_at) VALUES (1, 'vecchio', :now)"),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO courses_version (id, course_id, status, number, label, title, "
                "summary, estimated_hours, objectives, prerequisites, language, intro_md, "
                "intro_html, content_hash, created_at) VALUES (1, 1, 'published', 1, '', 'V', "
                "'S', 2.5, '[]', '[]', 'it', '', '', '', :now)"
            ),
            {"now": now},
        )
        for number, html in (
            (1, "<p>" + "g" * 1200 + "</p><table><tr><td>cella</td></tr></table>"),
            (2, '<p><img alt="" src="a.png"></p>'),
        ):
            connection.execute(
                text(
                    "INSERT INTO courses_module (id, version_id, slug, position, title, "
                    "estimated_minutes, body_md, body_html) "
                    "VALUES (:n, 1, :slug, :n, 'M', 30, '', :html)"
                ),
                {"n": number, "slug": f"m{number}", "html": html},
            )
    command.upgrade(config, "0011")
    with engine.connect() as connection:
        minutes = connection.execute(
            text("SELECT computed_minutes FROM courses_module ORDER BY id")
        ).scalars()
        assert list(minutes) == [4, 2]
        assert connection.scalar(text("SELECT computed_minutes FROM courses_version")) == 6
    with engine.begin() as connection:
        connection.execute(text("UPDATE courses_module SET estimated_minutes = 0"))
    command.downgrade(config, "0010")
    with engine.connect() as connection:
        minutes = connection.execute(
            text("SELECT estimated_minutes FROM courses_module ORDER BY id")
        ).scalars()
        assert list(minutes) == [4, 2]
    engine.dispose()


def test_pages_print_the_computed_or_declared_duration(app, make_user, make_course):
    """No declared hours: 5 + 1 = 6 computed minutes = 0,1 ore on the course and in the
    catalogue; the first module shows its computed 5 min, the second its declared 1."""
    from tests.conftest import login, post_form

    files = course_files()
    files["01-primo.md"] = _module("", "f" * 1800 + "\n\n" + TABLE)  # 3 + 2 minutes
    make_course(files)
    client = app.test_client()
    login(client, make_user().email)
    course = client.get("/courses/corso-prova/").get_data(as_text=True)
    assert "0,1 ore" in course and "5 minuti" in course and "1 minuto" in course
    assert "0,1 ore" in client.get("/courses/").get_data(as_text=True)
    post_form(client, "/courses/corso-prova/enrol", {}, form_url="/courses/corso-prova/")
    module = client.get("/courses/corso-prova/modules/primo").get_data(as_text=True)
    assert "5 minuti" in module
