"""The course format: parsing, and a corpus of broken courses with file and line."""

from __future__ import annotations

import pytest

from courses.format import parse_bundle, split_block
from lms.errors import FormatError
from tests.courses.helpers import course_files, dedent

AUDIENCES = {"polizia_locale", "triage_asst", "scuola"}
# The fenced blocks a course may hold are the app's (the quizzes plugin adds "quiz").
pytestmark = pytest.mark.usefixtures("in_app_context")


def test_valid_course_parses_with_ordered_modules():
    files = course_files(
        modules=("alfa", "beta", "gamma"),
        audiences="[polizia_locale, scuola]",
        extra="renewal_months: 36\n",
    )
    bundle = parse_bundle(files, AUDIENCES)
    assert bundle.slug == "corso-prova" and bundle.title == "Corso di prova"
    assert [m.slug for m in bundle.modules] == ["alfa", "beta", "gamma"]
    assert bundle.audiences == ["polizia_locale", "scuola"] and not bundle.all_audiences
    assert bundle.renewal_months == 36 and bundle.estimated_hours is None
    assert bundle.intro == "Introduzione del corso."


def test_all_audiences_and_quiz_block_is_detected():
    bundle = parse_bundle(course_files(quiz_modules=("secondo",)), AUDIENCES)
    assert bundle.all_audiences and bundle.audiences == []
    assert [m.completed_by_block for m in bundle.modules] == [False, True]


def test_split_block_keeps_lesson_and_reports_line():
    body = "Testo\n\n```quiz\npass_mark: 50\n```\n\nDopo\n"
    lesson, quiz, line = split_block(body, "quiz")
    assert quiz == "pass_mark: 50\n" and line == 4
    assert "pass_mark" not in lesson and "Dopo" in lesson


def _issues(files: dict[str, bytes]) -> list[tuple[str, int | None, str]]:
    with pytest.raises(FormatError) as caught:
        parse_bundle(files, AUDIENCES)
    return [(i.file, i.line, i.message) for i in caught.value.issues]


def _with(**changes: bytes | None) -> dict[str, bytes]:
    files = course_files()
    for name, content in changes.items():
        name = name.replace("__", "-").replace("_md", ".md")
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content
    return files


BROKEN = {
    "bad yaml": (
        {
            "course.md": dedent("""
            ---
            slug: corso-prova
            title: "non chiuso
            summary: x
            ---
            """)
        },
        "course.md",
        3,
        "YAML non valido",
    ),
    "unknown audience": (
        {"course.md": course_files(audiences="[polizia_locale, pompieri]")["course.md"]},
        "course.md",
        5,
        "pubblico sconosciuto: pompieri",
    ),
    "missing title": (
        {
            "course.md": dedent("""
            ---
            slug: corso-prova
            summary: Un corso.
            audiences: [all]
            estimated_hours: 1
            ---
            """)
        },
        "course.md",
        2,
        "manca 'title'",
    ),
    "module without title": (
        {
            "01-primo.md": dedent("""
            ---
            estimated_minutes: 10
            ---
            Testo
            """)
        },
        "01-primo.md",
        2,
        "manca 'title'",
    ),
    "duplicate module number": (
        {"01-terzo.md": course_files()["01-primo.md"]},
        "01-terzo.md",
        None,
        "modulo duplicato",
    ),
    "duplicate module slug": (
        {"03-primo.md": course_files()["01-primo.md"]},
        "03-primo.md",
        None,
        "modulo duplicato",
    ),
    "image not found": (
        {
            "02-secondo.md": dedent("""
            ---
            title: Secondo
            estimated_minutes: 5
            ---
            Testo

            ![Schema](images/schema.png)
            """)
        },
        "02-secondo.md",
        7,
        "file non trovato nella cartella del corso: images/schema.png",
    ),
    "oversized markdown": (
        {"02-secondo.md": b"---\ntitle: X\nestimated_minutes: 1\n---\n" + b"a" * (2 * 1024 * 1024)},
        "02-secondo.md",
        None,
        "file troppo grande",
    ),
    "oversized image": (
        {"images/big.png": b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 1)},
        "images/big.png",
        None,
        "file troppo grande",
    ),
    "unknown key with line": (
        {"course.md": course_files(extra="renewal: 36\n")["course.md"]},
        "course.md",
        12,
        "chiave sconosciuta: renewal",
    ),
    "bad module filename": (
        {"primo.md": course_files()["01-primo.md"]},
        "primo.md",
        None,
        "nome di modulo non valido",
    ),
    "negative hours": (
        {
            "course.md": course_files()["course.md"].replace(
                b"# estimated_hours: facoltativa", b"estimated_hours: -1"
            )
        },
        "course.md",
        6,
        "'estimated_hours' deve essere un numero maggiore di 0",
    ),
    "no front matter": (
        {"02-secondo.md": b"Solo testo senza intestazione\n"},
        "02-secondo.md",
        1,
        "manca l'intestazione YAML",
    ),
    "not utf-8": (
        {"02-secondo.md": "---\ntitle: Perché\nestimated_minutes: 3\n---\n".encode("latin-1")},
        "02-secondo.md",
        2,
        "il file non è in UTF-8",
    ),
    "duplicate key": (
        {
            "course.md": course_files()["course.md"].replace(
                b"language: it", b"language: it\nlanguage: en"
            )
        },
        "course.md",
        11,
        "chiave ripetuta: language",
    ),
    "objective with a colon": (
        {
            "course.md": course_files()["course.md"].replace(
                b"  - Primo obiettivo", b"  - Nota: testo"
            )
        },
        "course.md",
        8,
        "scrivila tra virgolette",
    ),
    "script file not allowed": (
        {"images/x.svg": b"<svg onload='alert(1)'/>"},
        "images/x.svg",
        None,
        "tipo di file non ammesso",
    ),
    "missing course.md": ({"course.md": None}, "course.md", None, "manca il file course.md"),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=sorted(BROKEN))
def test_broken_course_names_file_and_line(case: str):
    changes, file, line, message = BROKEN[case]
    files = course_files()
    for name, content in changes.items():
        if content is None:
            files.pop(name)
        else:
            files[name] = content
    issues = _issues(files)
    assert any(f == file and ln == line and message in m for f, ln, m in issues), issues


def test_every_problem_is_reported_at_once():
    files = course_files(audiences="[pompieri]")
    files["01-primo.md"] = b"---\nestimated_minutes: x\n---\n"
    issues = _issues(files)
    messages = " | ".join(m for _f, _l, m in issues)
    assert "pubblico sconosciuto" in messages and "manca 'title'" in messages
    assert "estimated_minutes" in messages
