"""Presenting and scoring each question type, and whole attempts, with exact fractions."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from typing import Any

import pytest

from quizzes.question_types import question_type, question_types
from quizzes.records import QuizSpec
from quizzes.scoring import draw_questions, present_attempt, score_attempt, score_parsed
from quizzes.spec import parse_quiz_block
from quizzes.textmatch import normalise_answer
from tests.quizzes.helpers import FILE, FIRST, doc_example, parse

BANK = """
pass_mark: 70
questions:
  - id: singola
    type: single
    text: Quale codice?
    options:
      - {text: Bianco, feedback: No.}
      - {text: Giallo, correct: true}
      - {text: Rosso}
  - id: multipla
    type: multiple
    text: Cosa garantire?
    points: 3
    options:
      - {text: Stanza dedicata, correct: true}
      - {text: Figli con la madre, correct: true}
      - {text: Denuncia immediata}
      - {text: Confronto con l'autore}
  - id: vero-falso
    type: true_false
    text: L'OBI può durare fino a 36/72 ore.
    answer: true
  - id: abbina
    type: matching
    text: Abbina.
    pairs:
      - {left: Centro antiviolenza, right: Percorso di uscita}
      - {left: Casa rifugio, right: Ospitalità protetta}
      - {left: Pronto Soccorso, right: Cura}
  - id: ordina
    type: ordering
    text: In ordine.
    items: [Accoglienza, Valutazione del rischio, Informazioni sulla Rete]
  - id: breve
    type: short
    text: Strumento?
    answers: [DA-5, Danger Assessment 5]
"""


def bank() -> QuizSpec:
    return parse(BANK)


def attempt(spec: QuizSpec, seed: int = 7) -> dict[str, Any]:
    return present_attempt(spec, random.Random(seed))


def shown(presented: dict[str, Any], question_id: str) -> dict[str, Any]:
    return next(q for q in presented["questions"] if q["id"] == question_id)


def token(entries: list[dict[str, Any]], text: str) -> str:
    return next(e["id"] for e in entries if e["text"] == text)


def answer(spec: QuizSpec, presented: dict[str, Any], question_id: str, values: Any) -> Fraction:
    """Parse form values for one question as the engine would, then score them."""
    question = spec.question(question_id)
    qtype = question_type(question)
    return qtype.score(
        question, qtype.parse_response(question, shown(presented, question_id), values)
    )


def test_registry_holds_the_six_types():
    assert list(question_types()) == [
        "single",
        "multiple",
        "true_false",
        "matching",
        "ordering",
        "short",
    ]
    assert all(cls.name == name and cls.label for name, cls in question_types().items())


def test_single():
    spec, presented = bank(), attempt(bank())
    options = shown(presented, "singola")["options"]
    assert answer(spec, presented, "singola", [token(options, "Giallo")]) == 1
    assert answer(spec, presented, "singola", [token(options, "Bianco")]) == 0
    assert answer(spec, presented, "singola", []) == 0


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (["Stanza dedicata", "Figli con la madre"], Fraction(1)),
        (["Stanza dedicata"], Fraction(1, 2)),
        (["Stanza dedicata", "Denuncia immediata"], Fraction(0)),
        (["Stanza dedicata", "Figli con la madre", "Denuncia immediata"], Fraction(1, 2)),
        (["Denuncia immediata", "Confronto con l'autore"], Fraction(0)),  # not negative
        (["Stanza dedicata", "Denuncia immediata", "Confronto con l'autore"], Fraction(0)),
        ([], Fraction(0)),
    ],
)
def test_multiple_partial_credit(chosen: list[str], expected: Fraction):
    spec, presented = bank(), attempt(bank())
    options = shown(presented, "multipla")["options"]
    assert answer(spec, presented, "multipla", [token(options, t) for t in chosen]) == expected


def test_multiple_with_three_right_options():
    spec = parse(
        """
        questions:
          - id: tre
            type: multiple
            text: Quali?
            options:
              - {text: A, correct: true}
              - {text: B, correct: true}
              - {text: C, correct: true}
              - {text: D}
        """
    )
    presented = attempt(spec)
    options = shown(presented, "tre")["options"]
    chosen = [token(options, t) for t in ("A", "B", "C", "D")]
    assert answer(spec, presented, "tre", chosen) == Fraction(2, 3)


def test_true_false():
    spec, presented = bank(), attempt(bank())
    assert [o["text"] for o in shown(presented, "vero-falso")["options"]] == ["Vero", "Falso"]
    assert answer(spec, presented, "vero-falso", ["true"]) == 1
    assert answer(spec, presented, "vero-falso", ["false"]) == 0
    assert answer(spec, presented, "vero-falso", []) == 0


def test_matching_partial_credit():
    spec, presented = bank(), attempt(bank())
    question = shown(presented, "abbina")
    left, right = question["left"], question["right"]

    def match(pairs: dict[str, str]) -> Fraction:
        values = {token(left, a): token(right, b) if b else "" for a, b in pairs.items()}
        return answer(spec, presented, "abbina", values)

    all_right = {
        "Centro antiviolenza": "Percorso di uscita",
        "Casa rifugio": "Ospitalità protetta",
        "Pronto Soccorso": "Cura",
    }
    assert match(all_right) == 1
    swapped = {**all_right, "Casa rifugio": "Cura", "Pronto Soccorso": "Ospitalità protetta"}
    assert match(swapped) == Fraction(1, 3)
    assert match({"Centro antiviolenza": "Percorso di uscita", "Casa rifugio": ""}) == Fraction(
        1, 3
    )
    assert match({}) == 0


def test_matching_with_a_shared_right_item():
    spec = parse(
        """
        questions:
          - id: chi
            type: matching
            text: Abbina.
            pairs:
              - {left: CAV, right: Accoglienza}
              - {left: Sportello, right: accoglienza}
              - {left: Casa rifugio, right: Ospitalità}
        """
    )
    presented = attempt(spec)
    question = shown(presented, "chi")
    assert sorted(e["text"] for e in question["right"]) == ["Accoglienza", "Ospitalità"]
    left, right = question["left"], question["right"]
    values = {
        token(left, "CAV"): token(right, "Accoglienza"),
        token(left, "Sportello"): token(right, "Accoglienza"),
        token(left, "Casa rifugio"): token(right, "Accoglienza"),
    }
    assert answer(spec, presented, "chi", values) == Fraction(2, 3)


def test_ordering_all_or_nothing():
    spec, presented = bank(), attempt(bank())
    items = shown(presented, "ordina")["items"]
    right = ["Accoglienza", "Valutazione del rischio", "Informazioni sulla Rete"]
    assert [i["text"] for i in items] != right  # never shown already solved
    assert answer(spec, presented, "ordina", [token(items, t) for t in right]) == 1
    nearly = [right[0], right[2], right[1]]
    assert answer(spec, presented, "ordina", [token(items, t) for t in nearly]) == 0
    assert answer(spec, presented, "ordina", []) == 0
    positions = {token(items, t): str(n) for n, t in enumerate(right, 1)}
    assert answer(spec, presented, "ordina", positions) == 1
    assert answer(spec, presented, "ordina", {token(items, t): "" for t in right}) == 0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("DA-5", 1),
        ("da5", 1),
        ("  D.A. 5 ", 1),
        ("Danger  assessment-5", 1),
        ("DÀNGER ASSESSMENT 5!", 1),
        ("ｄａ５", 1),  # full-width characters, as some phone keyboards type them
        ("DA-6", 0),
        ("Danger", 0),
        ("", 0),
        ("   ", 0),
        ("!!!", 0),
    ],
)
def test_short_answer_ignores_case_accents_punctuation_spaces(typed: str, expected: int):
    spec, presented = bank(), attempt(bank())
    assert answer(spec, presented, "breve", [typed]) == expected


def test_normalise_answer():
    assert normalise_answer("L'Osservazione   Breve-Intensiva") == "losservazionebreveintensiva"
    assert normalise_answer("perché") == normalise_answer("PERCHE")
    assert normalise_answer("Straße") == normalise_answer("strasse")
    assert normalise_answer("5 €") == "5€"


def test_correct_answers():
    spec = bank()

    def solution(question_id: str) -> dict[str, Any]:
        question = spec.question(question_id)
        return question_type(question).correct_answer(question)

    assert solution("singola") == {"options": [{"id": "o2", "text": "Giallo"}]}
    assert [o["id"] for o in solution("multipla")["options"]] == ["o1", "o2"]
    assert solution("vero-falso") == {"answer": True, "text": "Vero"}
    assert solution("abbina")["pairs"][2] == {"left": "Pronto Soccorso", "right": "Cura"}
    assert solution("ordina") == {
        "items": ["Accoglienza", "Valutazione del rischio", "Informazioni sulla Rete"]
    }
    assert solution("breve") == {"answers": ["DA-5", "Danger Assessment 5"]}


# -- what the page may see -----------------------------------------------------------------


def test_presentation_holds_no_answer():
    spec = bank()
    for seed in range(20):
        presented = attempt(spec, seed)
        page = json.dumps(presented, ensure_ascii=False)
        assert "correct" not in page and "feedback" not in page and "answer" not in page
        assert "No." not in page  # per-option feedback
        assert "DA-5" not in page and "Danger" not in page  # short answer variants
        for question in presented["questions"]:
            entries = question.get("options", []) + question.get("items", [])
            entries += question.get("left", []) + question.get("right", [])
            ids = [e["id"] for e in entries]
            assert not {"o1", "o2", "i1", "p1"} & set(ids)  # file positions stay server-side
        matching = shown(presented, "abbina")
        lefts_answers = {
            "Centro antiviolenza": "Percorso di uscita",
            "Casa rifugio": "Ospitalità protetta",
            "Pronto Soccorso": "Cura",
        }
        aligned = [lefts_answers[e["text"]] for e in matching["left"]]
        assert [e["text"] for e in matching["right"]] != aligned


def test_presentation_is_frozen_by_the_seed_and_json_compatible():
    spec = bank()
    first, again = attempt(spec, 42), attempt(spec, 42)
    assert first == again
    assert json.loads(json.dumps(first)) == first
    orders = {
        tuple(o["text"] for o in shown(attempt(spec, s), "singola")["options"]) for s in range(30)
    }
    assert len(orders) > 1  # options are shuffled by default


def test_no_shuffle_keeps_the_file_order():
    spec = parse("shuffle_options: false\n" + BANK.lstrip("\n"))
    for seed in range(10):
        options = shown(attempt(spec, seed), "singola")["options"]
        assert [o["text"] for o in options] == ["Bianco", "Giallo", "Rosso"]


def test_draw_picks_from_tags_in_file_order():
    spec = parse(
        """
        draw: 2
        draw_tags: [triage]
        questions:
          - {id: a, type: true_false, text: A, answer: true, tags: [triage]}
          - {id: b, type: true_false, text: B, answer: true}
          - {id: c, type: true_false, text: C, answer: true, tags: [triage, rete]}
          - {id: d, type: true_false, text: D, answer: true, tags: [triage]}
        """
    )
    seen = set()
    for seed in range(40):
        drawn = [q.id for q in draw_questions(spec, random.Random(seed))]
        assert len(drawn) == 2 and "b" not in drawn
        assert drawn == sorted(drawn)
        seen.add(tuple(drawn))
    assert seen == {("a", "c"), ("a", "d"), ("c", "d")}
    assert [q["id"] for q in attempt(spec)["questions"]] == [
        q.id for q in draw_questions(spec, random.Random(7))
    ]


# -- whole attempts ------------------------------------------------------------------------


def right_answers(spec: QuizSpec, presented: dict[str, Any]) -> dict[str, Any]:
    single = shown(presented, "singola")["options"]
    multiple = shown(presented, "multipla")["options"]
    matching = shown(presented, "abbina")
    items = shown(presented, "ordina")["items"]
    return {
        "singola": [token(single, "Giallo")],
        "multipla": [token(multiple, "Stanza dedicata"), token(multiple, "Figli con la madre")],
        "vero-falso": ["true"],
        "abbina": {
            token(matching["left"], p.left): token(matching["right"], p.right)
            for p in spec.question("abbina").pairs
        },
        "ordina": [token(items, i.text) for i in spec.question("ordina").items],
        "breve": ["da 5"],
    }


def test_score_attempt_all_right():
    spec = bank()
    presented = attempt(spec)
    result = score_attempt(spec, presented, right_answers(spec, presented))
    assert result.points_available == 8  # five questions of 1 point, one of 3
    assert result.points_earned == 8
    assert result.percent == 100
    assert result.passed
    assert [q.question_id for q in result.per_question] == list(spec.question_ids)
    assert result.per_question[0].response == "o2"
    assert result.per_question[1].response == ["o1", "o2"]
    assert result.per_question[3].response == {"p1": "p1", "p2": "p2", "p3": "p3"}
    assert result.per_question[4].response == ["i1", "i2", "i3"]
    assert json.loads(json.dumps(result.to_dict()))["percent"] == "100"


def test_score_attempt_partial_and_pass_mark_boundary():
    spec = bank()
    presented = attempt(spec)
    responses = right_answers(spec, presented)
    multiple = shown(presented, "multipla")["options"]
    responses["multipla"] = [token(multiple, "Stanza dedicata")]  # 1/2 of 3 points
    responses["breve"] = ["sbagliato"]
    result = score_attempt(spec, presented, responses)
    assert result.points_earned == Fraction(11, 2)
    assert result.percent == Fraction(11, 2) * 100 / 8  # 68.75 %
    assert not result.passed  # pass mark 70
    assert result.per_question[1].points_earned == Fraction(3, 2)

    at_mark = QuizSpec.from_dict({**spec.to_dict(), "pass_mark": 68.75})
    assert score_attempt(at_mark, presented, responses).passed  # "at least" pass_mark


def test_unanswered_attempt_scores_zero():
    spec = bank()
    result = score_attempt(spec, attempt(spec), {})
    assert result.points_earned == 0 and result.percent == 0 and not result.passed
    assert all(q.fraction == 0 for q in result.per_question)


def test_decimal_points_are_exact():
    spec = parse(
        """
        pass_mark: 100
        questions:
          - {id: a, type: true_false, text: A, answer: true, points: 0.1}
          - {id: b, type: true_false, text: B, answer: true, points: 0.1}
          - {id: c, type: true_false, text: C, answer: true, points: 0.1}
        """
    )
    presented = attempt(spec)
    result = score_attempt(spec, presented, {"a": ["true"], "b": ["true"], "c": ["true"]})
    assert result.points_earned == Fraction(3, 10)  # 0.1 * 3 is 0.30000000000000004 in floats
    assert result.passed


def test_regrading_stored_responses():
    spec = parse_quiz_block(doc_example(), file=FILE, first_line=FIRST)
    presented = attempt(spec)
    stored = {q["id"]: None for q in presented["questions"]}
    assert score_parsed(spec, presented, stored).points_earned == 0


def test_page_tokens_map_back_to_stable_ids_for_result_pages():
    spec = bank()
    presented = attempt(spec)

    def ids(question_id: str) -> dict[str, str]:
        question = spec.question(question_id)
        return question_type(question).spec_ids(question, shown(presented, question_id))

    options = shown(presented, "singola")["options"]
    assert ids("singola")[token(options, "Bianco")] == "o1"
    assert ids("vero-falso") == {"true": "true", "false": "false"}
    matching = shown(presented, "abbina")
    assert ids("abbina")[token(matching["left"], "Casa rifugio")] == "p2"
    assert ids("abbina")[token(matching["right"], "Cura")] == "p3"
    assert sorted(ids("ordina").values()) == ["i1", "i2", "i3"]
    assert ids("breve") == {}
