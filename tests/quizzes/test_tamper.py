"""Forged answers are refused by the engine: nothing outside the presented attempt counts."""

from __future__ import annotations

from typing import Any

import pytest

from quizzes.question_types import question_type
from quizzes.scoring import parse_responses, score_attempt
from quizzes.types import InvalidResponse
from tests.quizzes.test_scoring import attempt, bank, right_answers, shown, token


def refused(values_by_question: dict[str, Any]) -> str:
    spec = bank()
    presented = attempt(spec)
    responses = right_answers(spec, presented)
    responses.update(values_by_question)
    with pytest.raises(InvalidResponse) as caught:
        score_attempt(spec, presented, responses)
    return str(caught.value)


def presented_tokens(question_id: str, key: str) -> list[str]:
    return [e["id"] for e in shown(attempt(bank()), question_id)[key]]


def test_unknown_option_id():
    message = refused({"singola": ["o2"]})  # the file's id of the right option
    assert (
        message == "domanda 1: la risposta contiene una scelta che non fa parte di questa domanda"
    )


def test_option_id_from_another_question():
    other = presented_tokens("multipla", "options")[0]
    assert "non fa parte di questa domanda" in refused({"singola": [other]})


def test_two_options_in_a_single_choice():
    first, second = presented_tokens("singola", "options")[:2]
    assert "una sola risposta" in refused({"singola": [first, second]})


def test_duplicate_selections():
    first = presented_tokens("multipla", "options")[0]
    assert (
        refused({"multipla": [first, first]})
        == "domanda 2: la stessa risposta è stata scelta più di una volta"
    )


def test_true_false_value_not_offered():
    assert "non fa parte" in refused({"vero-falso": ["forse"]})


def test_matching_with_a_right_item_not_presented():
    left = presented_tokens("abbina", "left")[0]
    assert "domanda 4:" in refused({"abbina": {left: "deadbeef"}})


def test_matching_with_a_left_item_not_presented():
    right = presented_tokens("abbina", "right")[0]
    assert "non fa parte" in refused({"abbina": {"deadbeef": right}})


def test_matching_with_the_wrong_shape():
    assert "formato previsto" in refused({"abbina": presented_tokens("abbina", "right")})


def test_ordering_with_a_missing_item():
    items = presented_tokens("ordina", "items")
    assert "ogni elemento una volta sola" in refused({"ordina": items[:2]})


def test_ordering_with_an_extra_item():
    items = presented_tokens("ordina", "items")
    assert "non fa parte" in refused({"ordina": [*items, "deadbeef"]})


def test_ordering_with_a_repeated_item():
    items = presented_tokens("ordina", "items")
    assert "ogni elemento una volta sola" in refused({"ordina": [items[0], items[0], items[1]]})


def test_ordering_positions_must_be_a_permutation():
    items = presented_tokens("ordina", "items")
    assert "da 1 a 3" in refused({"ordina": {items[0]: "1", items[1]: "1", items[2]: "3"}})
    assert "da 1 a 3" in refused({"ordina": {items[0]: "1", items[1]: "2"}})


def test_extra_question_id():
    message = refused({"domanda-inventata": ["x"]})
    assert message == "la risposta riguarda una domanda che non fa parte del tentativo"


def test_question_not_drawn_in_this_attempt():
    spec = bank()
    presented = attempt(spec)
    presented["questions"] = presented["questions"][:2]  # as if only two were drawn
    with pytest.raises(InvalidResponse):
        parse_responses(spec, presented, {"vero-falso": ["true"]})


@pytest.mark.parametrize("values", [42, None, {"a": "b"}, [1], [["x"]]])
def test_wrong_shapes_for_choices(values: Any):
    assert "formato previsto" in refused({"singola": values})


def test_short_answer_too_long_or_repeated():
    assert "troppo lunga" in refused({"breve": ["a" * 501]})
    assert "formato previsto" in refused({"breve": ["DA-5", "DA 5"]})


def test_presentation_that_does_not_match_the_spec_is_a_server_error():
    spec = bank()
    presented = attempt(spec)
    question = spec.question("singola")
    forged = {**shown(presented, "singola"), "options": [{"id": "x", "text": "Inventata"}]}
    with pytest.raises(ValueError):
        question_type(question).parse_response(question, forged, ["x"])


def test_valid_tokens_are_accepted():
    spec = bank()
    presented = attempt(spec)
    options = shown(presented, "singola")["options"]
    parsed = parse_responses(spec, presented, {"singola": [token(options, "Rosso")]})
    assert parsed["singola"] == "o3"
    assert parsed["breve"] is None
