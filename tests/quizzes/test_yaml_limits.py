"""Hostile YAML in a quiz block (issue 16, point 2): refused by its limits, with the line."""

from __future__ import annotations

import pytest

from quizzes.spec import validate_quiz_block
from tests.core.yaml_attacks import ALIAS_BUDGET, ATTACKS, alias_bomb
from tests.quizzes.helpers import FILE, FIRST

QUESTIONS = "questions:\n  - {id: q1, type: true_false, text: Vero?, answer: true}\n"


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_beside_the_questions_is_refused_with_its_line(attack: str):
    source, reason = ATTACKS[attack]
    found = validate_quiz_block(source + QUESTIONS, FILE, FIRST)
    assert [i.file for i in found] == [FILE], [str(i) for i in found]
    assert reason in found[0].message
    assert found[0].line is not None and found[0].line >= FIRST


def test_bomb_inside_the_questions_is_refused():
    """The walker reads ``questions`` and its options: the aliases point there."""
    bomb = alias_bomb(prefix="q")
    source = bomb + "questions: *q8\n"
    found = validate_quiz_block(source, FILE, FIRST)
    assert any(ALIAS_BUDGET in i.message for i in found), [str(i) for i in found]


def test_a_few_aliases_within_the_budget_still_work():
    source = (
        "questions:\n"
        "  - id: q1\n    type: single\n    text: Scegli\n"
        "    options: &opzioni\n      - {text: Una, correct: true}\n      - {text: Due}\n"
        "  - id: q2\n    type: single\n    text: Ancora\n    options: *opzioni\n"
    )
    assert validate_quiz_block(source, FILE, FIRST) == []
