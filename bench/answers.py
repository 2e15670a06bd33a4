"""The right answers to a presented attempt, as the attempt form would send them."""

from __future__ import annotations

from typing import Any

from quizzes.question_types import question_type
from quizzes.records import QuizSpec


def correct_responses(spec: QuizSpec, presented: dict[str, Any]) -> dict[str, Any]:
    """Question id -> form values (``score_attempt``'s ``responses``), all right."""
    responses: dict[str, Any] = {}
    for shown in presented["questions"]:
        question = spec.question(shown["id"])
        qtype = question.type
        if qtype in ("single", "multiple"):
            ids = question_type(question).spec_ids(question, shown)
            right = {o.id for o in question.options if o.correct}
            responses[question.id] = [token for token, oid in ids.items() if oid in right]
        elif qtype == "true_false":
            responses[question.id] = ["true" if question.answer else "false"]
        elif qtype == "short":
            responses[question.id] = [question.answers[0]]
        elif qtype == "matching":
            right_of = {p.left: p.right for p in question.pairs}
            token_of_right = {entry["text"]: entry["id"] for entry in shown["right"]}
            responses[question.id] = {
                entry["id"]: token_of_right[right_of[entry["text"]]] for entry in shown["left"]
            }
        elif qtype == "ordering":
            position = {item.text: n for n, item in enumerate(question.items, 1)}
            responses[question.id] = {
                entry["id"]: str(position[entry["text"]]) for entry in shown["items"]
            }
        else:  # pragma: no cover - a new question type
            raise ValueError(f"unknown question type {qtype!r}")
    return responses


def form_fields(responses: dict[str, Any]) -> list[tuple[str, str]]:
    """The responses as the attempt page's form fields (``q::<id>``, ``q::<id>::<token>``)."""
    fields: list[tuple[str, str]] = []
    for question_id, value in responses.items():
        if isinstance(value, dict):
            fields += [(f"q::{question_id}::{token}", v) for token, v in value.items()]
        else:
            fields += [(f"q::{question_id}", v) for v in value]
    return fields
