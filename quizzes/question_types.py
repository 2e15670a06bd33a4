"""The question types a quiz may use: an extension point of the app, filled in ``init_app``.

The quizzes plugin registers its six built-in types; another plugin adds one with
``registry(QUESTION_TYPES, app).add(MyType.name, MyType)`` (a :class:`QuestionType`
subclass). Parsing, scoring and result pages ask :func:`question_types` of the current app.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import has_app_context

from lms.plugins import ExtensionPoint, registry
from quizzes.records import QuestionSpec
from quizzes.structured import Matching, Ordering, ShortAnswer
from quizzes.types import MultipleChoice, QuestionType, SingleChoice, TrueFalse

QUESTION_TYPES: ExtensionPoint[type[QuestionType]] = ExtensionPoint("quizzes.question_types")
#: What the quizzes plugin registers, in this order (an immutable list, not a registry).
BUILT_IN: tuple[type[QuestionType], ...] = (
    SingleChoice,
    MultipleChoice,
    TrueFalse,
    Matching,
    Ordering,
    ShortAnswer,
)


def question_types() -> Mapping[str, type[QuestionType]]:
    """The current app's question types by name. Outside an app (a stored attempt scored
    by a pure function, a unit test), the built-in ones: no app, no other plugin's."""
    if has_app_context():
        return dict(registry(QUESTION_TYPES).items())
    return {cls.name: cls for cls in BUILT_IN}


def question_type(question: QuestionSpec) -> type[QuestionType]:
    return question_types()[question.type]
