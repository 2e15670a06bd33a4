"""The shipped curriculum (issue 15): it imports, and meets its editorial rules.

A course that states a fact without sources, prints a contact that is not in
``content/contacts.yaml`` or repeats another's question fails here, with its file.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courses.cli import course_folders, import_path
from courses.models import Course
from lms import db
from lms.organisations.services import list_audiences, load_registry
from tests.content import audit

pytestmark = pytest.mark.usefixtures("in_app_context")
FOLDERS = course_folders(audit.CONTENT)
# Under the computed-duration rule a module of fewer words would not teach what its
# declared purpose needs (issue 15 asks for 1,500-3,000 in a typical module).
MIN_WORDS = {"professional": 1400, "ecm_fad": 1400, "awareness": 500}
MIN_BANK = 10  # questions per module quiz, so that attempts can draw afresh
AUDIENCES = [entry["code"] for entry in load_registry()["audiences"]]


@pytest.fixture(scope="module")
def figures(app) -> list[audit.CourseFigures]:
    """Read once for the module: parsing needs the app (its fenced blocks), not the
    database, so the audiences come from the registry file the database is seeded from."""
    with app.app_context():
        problems, courses = audit.audit(FOLDERS, AUDIENCES)
    assert not problems, "\n".join(problems)
    return courses


def test_every_course_imports_in_one_go():
    results = import_path(audit.CONTENT, publish=True)
    assert {r.version.course.slug for r in results} == {
        audit.front_matter(folder)["slug"] for folder in FOLDERS
    }
    assert db.session.scalar(select(Course).where(Course.slug == "quadro-normativo")) is not None
    db.session.rollback()


def test_editorial_rules_hold(figures):
    """Sources, contacts, renewal, evidence profile declared, practical last module."""
    assert len(figures) == len(FOLDERS)


def test_modules_are_long_enough_and_quizzes_large_enough(figures):
    short, small = [], []
    for course in figures:
        profile = course.evidence if isinstance(course.evidence, str) else "professional"
        for module in course.modules:
            if module.words < MIN_WORDS[profile]:
                short.append(f"{course.folder}/{module.file}: {module.words} parole")
            if profile != "awareness" and module.questions < MIN_BANK:
                small.append(f"{course.folder}/{module.file}: {module.questions} domande")
    assert not short, "moduli troppo brevi:\n" + "\n".join(short)
    assert not small, "banche di domande troppo piccole:\n" + "\n".join(small)


def test_no_two_questions_share_a_text():
    assert not (problems := audit.duplicate_questions(FOLDERS)), "\n".join(problems)


def test_every_audience_has_its_own_course(figures):
    covered = {code for course in figures for code in course.audiences}
    missing = {a.code for a in list_audiences(db.session)} - covered
    assert not missing, f"nessun corso per: {sorted(missing)}"


def test_a_public_awareness_path_exists(figures):
    public = [c for c in figures if c.public]
    assert public and all(c.evidence == "awareness" and not c.renewal_months for c in public)


def test_a_shared_legal_course_is_open_to_everyone(figures):
    legal = next(c for c in figures if c.slug == "quadro-normativo")
    assert legal.audiences == ["all"]


@pytest.mark.parametrize(
    "text",
    [
        "Chiama il 1522 oppure, in pericolo immediato, il 112.",
        "Il sito www.reteantiviolenzamilano.it tiene l'elenco aggiornato.",
        "L. 19 luglio 2019, n. 69, art. 612-bis c.p.; art. 90-bis c.p.p.",
        "Piano quadriennale 2020-2023; DD n. 1712 del 06/03/2023; fino a 36/72 ore.",
        "Convenzione di Istanbul, artt. 31, 45 e 48; art. 118 Cost.",
    ],
)
def test_allowed_contacts_and_legal_citations_pass(text):
    assert audit.contact_problems(text, audit.load_allowed()) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Per informazioni telefona allo 02 1234 5678.", "02 1234 5678"),
        ("Numero verde 800123456.", "800123456"),
        ("Chiamare il 114 per i minori.", "114"),
        ("In emergenza sanitaria il 118.", "118"),
        ("Scrivi a sportello@comune.example.it.", "sportello@comune.example.it"),
        ("Vedi https://www.esempio.it/servizi.", "https://www.esempio.it/servizi"),
        ("Vedi centroantiviolenza-inventato.org.", "centroantiviolenza-inventato.org"),
    ],
)
def test_an_invented_contact_fails(text, found):
    problems = audit.contact_problems(text, audit.load_allowed())
    assert problems and any(found in message for _line, message in problems), problems
