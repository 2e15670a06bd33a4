"""The parsed quiz as frozen plain data, stored as JSON with each published course version.

Kept apart from the parser so question types can use these classes without importing it.
Ids of options, pairs and items are derived from their position in the file ("o1", "p1",
"i1"): stable for a published version, which is what stored answers refer to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

FORMAT_VERSION = 1

FEEDBACK_WHEN = ("after_each_attempt", "after_passing", "never")
GRADING = ("best", "last")


@dataclass(frozen=True)
class OptionSpec:
    """An option of a ``single`` or ``multiple`` question."""

    id: str
    text: str
    correct: bool = False
    feedback: str = ""


@dataclass(frozen=True)
class PairSpec:
    """A ``matching`` pair: ``left`` goes with ``right`` (several lefts may share a right)."""

    id: str
    left: str
    right: str


@dataclass(frozen=True)
class ItemSpec:
    """An ``ordering`` item; items are kept in the right order."""

    id: str
    text: str


@dataclass(frozen=True)
class QuestionSpec:
    """One question; only the fields of its ``type`` are filled, the others stay empty."""

    id: str
    type: str
    text: str
    points: int | float = 1
    tags: tuple[str, ...] = ()
    feedback: str = ""
    options: tuple[OptionSpec, ...] = ()  # single, multiple
    answer: bool | None = None  # true_false
    pairs: tuple[PairSpec, ...] = ()  # matching
    items: tuple[ItemSpec, ...] = ()  # ordering
    answers: tuple[str, ...] = ()  # short: accepted variants
    line: int | None = field(default=None, compare=False)  # in the module file, for messages

    @property
    def weight(self) -> Fraction:
        """Points as an exact fraction (``0.1`` is one tenth, not a binary float)."""
        return Fraction(str(self.points))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "text": self.text,
            "points": self.points,
            "tags": list(self.tags),
            "feedback": self.feedback,
            "line": self.line,
        }
        if self.options:
            data["options"] = [
                {"id": o.id, "text": o.text, "correct": o.correct, "feedback": o.feedback}
                for o in self.options
            ]
        if self.answer is not None:
            data["answer"] = self.answer
        if self.pairs:
            data["pairs"] = [{"id": p.id, "left": p.left, "right": p.right} for p in self.pairs]
        if self.items:
            data["items"] = [{"id": i.id, "text": i.text} for i in self.items]
        if self.answers:
            data["answers"] = list(self.answers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionSpec:
        return cls(
            id=data["id"],
            type=data["type"],
            text=data["text"],
            points=data.get("points", 1),
            tags=tuple(data.get("tags", ())),
            feedback=data.get("feedback", ""),
            options=tuple(
                OptionSpec(o["id"], o["text"], o.get("correct", False), o.get("feedback", ""))
                for o in data.get("options", ())
            ),
            answer=data.get("answer"),
            pairs=tuple(PairSpec(p["id"], p["left"], p["right"]) for p in data.get("pairs", ())),
            items=tuple(ItemSpec(i["id"], i["text"]) for i in data.get("items", ())),
            answers=tuple(data.get("answers", ())),
            line=data.get("line"),
        )


@dataclass(frozen=True)
class QuizSpec:
    """A module's quiz: settings and the question bank, in file order."""

    questions: tuple[QuestionSpec, ...]
    pass_mark: int | float = 75
    attempts: int = 0  # 0 = unlimited
    cooldown_minutes: int = 0
    time_limit_minutes: int | None = None
    draw: int | None = None  # None = every eligible question
    draw_tags: tuple[str, ...] = ()  # empty = every question is eligible
    shuffle_options: bool = True
    show_feedback: str = "after_each_attempt"
    show_answers: str = "after_passing"
    grading: str = "best"

    @property
    def question_ids(self) -> tuple[str, ...]:
        """For the caller's check that ids are unique across the whole course."""
        return tuple(q.id for q in self.questions)

    def question(self, question_id: str) -> QuestionSpec:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def eligible(self) -> tuple[QuestionSpec, ...]:
        """The questions an attempt may draw from (those with one of ``draw_tags``)."""
        if not self.draw_tags:
            return self.questions
        wanted = set(self.draw_tags)
        return tuple(q for q in self.questions if wanted.intersection(q.tags))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "pass_mark": self.pass_mark,
            "attempts": self.attempts,
            "cooldown_minutes": self.cooldown_minutes,
            "time_limit_minutes": self.time_limit_minutes,
            "draw": self.draw,
            "draw_tags": list(self.draw_tags),
            "shuffle_options": self.shuffle_options,
            "show_feedback": self.show_feedback,
            "show_answers": self.show_answers,
            "grading": self.grading,
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuizSpec:
        if data.get("format", FORMAT_VERSION) != FORMAT_VERSION:
            raise ValueError(f"unsupported quiz format {data.get('format')!r}")
        return cls(
            questions=tuple(QuestionSpec.from_dict(q) for q in data["questions"]),
            pass_mark=data.get("pass_mark", 75),
            attempts=data.get("attempts", 0),
            cooldown_minutes=data.get("cooldown_minutes", 0),
            time_limit_minutes=data.get("time_limit_minutes"),
            draw=data.get("draw"),
            draw_tags=tuple(data.get("draw_tags", ())),
            shuffle_options=data.get("shuffle_options", True),
            show_feedback=data.get("show_feedback", "after_each_attempt"),
            show_answers=data.get("show_answers", "after_passing"),
            grading=data.get("grading", "best"),
        )
