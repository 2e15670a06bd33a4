"""Attempts as pure functions: draw and present the questions, check and score the answers.

``present_attempt`` is what the server freezes when an attempt starts (and what the page is
rendered from); ``score_attempt`` takes that frozen presentation and the submitted form
values, so nothing the browser sends can widen what was asked or reveal what is right.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _

from quizzes.question_types import question_type
from quizzes.records import QuestionSpec, QuizSpec
from quizzes.types import InvalidResponse


@dataclass(frozen=True)
class QuestionScore:
    question_id: str
    response: Any  # normalised, JSON-compatible; None or empty when unanswered
    fraction: Fraction
    points_earned: Fraction
    points_available: Fraction


@dataclass(frozen=True)
class AttemptScore:
    points_earned: Fraction
    points_available: Fraction
    percent: Fraction
    passed: bool
    per_question: tuple[QuestionScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible, fractions as exact strings ("7/2") to store with the attempt."""
        return {
            "points_earned": str(self.points_earned),
            "points_available": str(self.points_available),
            "percent": str(self.percent),
            "passed": self.passed,
            "per_question": [
                {
                    "question_id": q.question_id,
                    "response": q.response,
                    "fraction": str(q.fraction),
                    "points_earned": str(q.points_earned),
                    "points_available": str(q.points_available),
                }
                for q in self.per_question
            ],
        }


def draw_questions(spec: QuizSpec, rng: random.Random) -> list[QuestionSpec]:
    """The questions of one attempt: ``draw`` of the eligible ones at random, in file order."""
    eligible = list(spec.eligible())
    if spec.draw is None or spec.draw >= len(eligible):
        return eligible
    chosen = {q.id for q in rng.sample(eligible, spec.draw)}
    return [q for q in eligible if q.id in chosen]


def present_attempt(
    spec: QuizSpec,
    rng: random.Random,
    *,
    questions: Sequence[QuestionSpec] | None = None,
    shuffle: bool = False,
) -> dict[str, Any]:
    """What an attempt shows, to be stored server-side when the attempt starts.

    ``rng`` is seeded by the caller; the result is JSON-compatible and holds no answer.
    ``questions``: the attempt's questions when the caller drew them (a fresh draw),
    else :func:`draw_questions`. ``shuffle`` (an evidence profile's rule) puts questions
    and options in random order whatever the quiz says.
    """
    drawn = list(questions) if questions is not None else draw_questions(spec, rng)
    if shuffle:
        rng.shuffle(drawn)
    return {
        "questions": [
            question_type(q).present(q, rng, shuffle=shuffle or spec.shuffle_options) for q in drawn
        ]
    }


def parse_responses(
    spec: QuizSpec, presented: Mapping[str, Any], responses: Mapping[str, Any]
) -> dict[str, Any]:
    """Form values by question id -> normalised answers by question id.

    Raises :class:`InvalidResponse` for a question not in the attempt or a value the page
    could not have sent; its message says which question (by number in the attempt).
    """
    shown = {q["id"]: (n, q) for n, q in enumerate(presented["questions"], 1)}
    extra = [qid for qid in responses if qid not in shown]
    if extra:
        raise InvalidResponse(_("la risposta riguarda una domanda che non fa parte del tentativo"))
    parsed: dict[str, Any] = {}
    for question_id, (n, shown_question) in shown.items():
        question = _question(spec, question_id)
        if question_id not in responses:
            parsed[question_id] = None  # unanswered
            continue
        values = responses[question_id]
        try:
            parsed[question_id] = question_type(question).parse_response(
                question, shown_question, values
            )
        except InvalidResponse as error:
            raise InvalidResponse(
                _("domanda %(n)d: %(problem)s", n=n, problem=error.message)
            ) from error
    return parsed


def score_parsed(
    spec: QuizSpec, presented: Mapping[str, Any], parsed: Mapping[str, Any]
) -> AttemptScore:
    """Score normalised answers (from :func:`parse_responses`, or stored ones to regrade)."""
    per_question = []
    for shown_question in presented["questions"]:
        question = _question(spec, shown_question["id"])
        response = parsed.get(question.id)
        fraction = question_type(question).score(question, response)
        if not 0 <= fraction <= 1:
            raise AssertionError(f"score of {question.id!r} out of range: {fraction}")
        per_question.append(
            QuestionScore(
                question.id, response, fraction, fraction * question.weight, question.weight
            )
        )
    earned = sum((q.points_earned for q in per_question), Fraction(0))
    available = sum((q.points_available for q in per_question), Fraction(0))
    percent = earned * 100 / available if available else Fraction(0)
    passed = bool(available) and percent >= Fraction(str(spec.pass_mark))
    return AttemptScore(earned, available, percent, passed, tuple(per_question))


def score_attempt(
    spec: QuizSpec, presented: Mapping[str, Any], responses: Mapping[str, Any]
) -> AttemptScore:
    """Check the submitted form values against what was presented, then score them.

    ``responses`` maps question ids to form values: a list of strings for choice, true/false,
    short and ordering questions, ``{left id: right id}`` for matching (``{item id:
    position}`` is accepted for ordering). Missing questions count as unanswered.
    """
    return score_parsed(spec, presented, parse_responses(spec, presented, responses))


def _question(spec: QuizSpec, question_id: str) -> QuestionSpec:
    try:
        return spec.question(question_id)
    except KeyError:
        raise ValueError(f"presented question {question_id!r} is not in this quiz") from None
