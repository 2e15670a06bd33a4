"""The installation's questions: a sensible Italian default, a file of its own, refusals."""

from __future__ import annotations

import pytest

from lms.errors import FormatError
from surveys.questions import DEFAULT_FILE, load_questions
from tests.conftest import make_test_app

OWN = """\
questions:
  - key: chiarezza
    kind: scale
    text: "Le spiegazioni erano chiare?"
  - key: note
    kind: comment
    text: {it: "Note", en: "Notes"}
"""


def test_the_default_asks_the_ecm_questions_in_italian_and_english():
    questions = load_questions(DEFAULT_FILE)
    assert [q.key for q in questions] == [
        "rilevanza",
        "qualita",
        "utilita",
        "indipendenza",
        "commento",
    ]
    assert [q.kind for q in questions] == ["scale"] * 4 + ["comment"]
    assert "influenze commerciali" in questions[3].text("it")
    assert questions[3].text("en").startswith("How free from commercial")
    assert questions[0].text("fr") == questions[0].text("it")  # the first language otherwise


def test_an_installation_names_its_own_file(tmp_path):
    own = tmp_path / "domande.yaml"
    own.write_text(OWN, encoding="utf-8")
    app = make_test_app(
        tmp_path, f"sqlite:///{tmp_path / 'own.sqlite3'}", LMS_SURVEY_QUESTIONS_FILE=str(own)
    )
    questions = app.extensions["surveys"]
    assert [(q.key, q.kind) for q in questions] == [("chiarezza", "scale"), ("note", "comment")]
    assert questions[1].text("en") == "Notes"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("domande: []\n", "Manca l'elenco 'questions'"),
        (
            "questions:\n  - {key: a, kind: scale, text: A}\n  - {key: a, kind: scale, text: B}\n",
            "ripetuta",
        ),
        ("questions:\n  - {key: A b, kind: scale, text: A}\n", "la chiave"),
        ("questions:\n  - {key: a, kind: stelle, text: A}\n", "il tipo"),
        ("questions:\n  - {key: a, kind: scale, text: ''}\n", "il testo"),
        ("questions:\n  - {key: a, kind: scale}\n  key: b\n", "YAML non valido"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "troppo grande",
        ),
    ],
)
def test_a_broken_file_is_refused_with_its_name(tmp_path, text, message):
    broken = tmp_path / "domande.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as refused:
        load_questions(broken)
    assert message in str(refused.value)
    assert "domande.yaml" in str(refused.value)
    with pytest.raises(FormatError):
        make_test_app(
            tmp_path, f"sqlite:///{tmp_path / 'b.sqlite3'}", LMS_SURVEY_QUESTIONS_FILE=str(broken)
        )
