"""Properties: whatever a trainer writes, the parser answers with a spec or a FormatError.

And whatever parses can be stored, presented and scored with any answer the page allows.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.errors import FormatError
from quizzes.records import QuizSpec
from quizzes.scoring import present_attempt, score_attempt
from quizzes.spec import COMMON_KEYS, TOP_KEYS, parse_quiz_block
from quizzes.textmatch import normalise_answer
from tests.quizzes.helpers import doc_example

# The autouse database fixture is function-scoped; these tests do not use it.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TYPES = ["single", "multiple", "true_false", "matching", "ordering", "short", "singola"]
KEYS = [
    *TOP_KEYS,
    *COMMON_KEYS,
    "options",
    "answer",
    "pairs",
    "items",
    "answers",
    "correct",
    "left",
    "right",
    "corect",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([*TYPES, "after_passing", "never", "best", "last", "triage", "q1", "-"]),
)
anything = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5),
    ),
    max_leaves=30,
)
short_text = st.text(min_size=1, max_size=12) | st.sampled_from(["A", "B", "C", "a", "No"])
ids = st.sampled_from(["q1", "q2", "codice-giallo", "Q 3", ""]) | st.text(max_size=6)
option = st.fixed_dictionaries(
    {"text": short_text},
    optional={"correct": st.booleans() | scalars, "feedback": short_text | scalars},
)
pair = st.fixed_dictionaries({"left": short_text, "right": short_text})
question = st.fixed_dictionaries(
    {"id": ids, "type": st.sampled_from(TYPES), "text": short_text | scalars},
    optional={
        "points": st.integers(-2, 5) | st.floats(0.1, 3) | scalars,
        "tags": st.lists(st.sampled_from(["triage", "rete", "Rete"]), max_size=3) | scalars,
        "feedback": short_text,
        "options": st.lists(option, max_size=5) | anything,
        "answer": st.booleans() | scalars,
        "pairs": st.lists(pair, max_size=4) | anything,
        "items": st.lists(short_text, max_size=5) | anything,
        "answers": st.lists(short_text, max_size=3) | anything,
    },
)
quiz = st.fixed_dictionaries(
    {"questions": st.lists(question, max_size=6) | anything},
    optional={
        "pass_mark": st.integers(-5, 105) | scalars,
        "attempts": st.integers(-1, 5) | scalars,
        "draw": st.integers(0, 6) | scalars,
        "draw_tags": st.lists(st.sampled_from(["triage", "rete", "altro"]), max_size=2) | scalars,
        "shuffle_options": st.booleans() | scalars,
        "show_feedback": st.sampled_from(["never", "after_passing", "sempre"]),
        "grading": st.sampled_from(["best", "last", "media"]),
        "corect": scalars,
    },
)


def parse_or_format_error(source: str) -> QuizSpec | None:
    try:
        return parse_quiz_block(source, file="01-modulo.md", first_line=5)
    except FormatError as error:
        assert error.issues
        assert all(issue.line is not None and issue.line >= 5 for issue in error.issues)
        assert all(issue.message for issue in error.issues)
        return None


@PROPERTY
@given(st.text(max_size=300))
def test_any_text(source: str):
    parse_or_format_error(source)


@PROPERTY
@given(anything)
def test_any_yaml_structure(data: Any):
    parse_or_format_error(yaml.safe_dump(data, allow_unicode=True))


@PROPERTY
@given(st.data())
def test_the_example_with_typos(data: st.DataObject):
    """Random edits of a valid block: syntax errors of every kind, never a crash."""
    source = doc_example()
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(source)))
        edit = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        text = data.draw(
            st.sampled_from(
                [
                    ":",
                    "-",
                    " ",
                    "\t",
                    "\n",
                    '"',
                    "'",
                    "[",
                    "{",
                    "&",
                    "*",
                    "#",
                    "|",
                    ">",
                    "!",
                    "%",
                    "@",
                    "x",
                    "\x00",
                ]
            )
        )
        if edit == "insert":
            source = source[:at] + text + source[at:]
        elif edit == "delete":
            source = source[:at] + source[at + 1 :]
        else:
            source = source[:at] + text + source[at + 1 :]
    parse_or_format_error(source)


@PROPERTY
@given(quiz)
def test_quiz_shaped_data(data: dict[str, Any]):
    parse_or_format_error(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


# -- valid quizzes: they parse, survive JSON, and score any answer the page allows --------

words = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "S"]),
    min_size=1,
    max_size=15,
).filter(lambda text: normalise_answer(text))


def same(text: str) -> str:
    return " ".join(text.casefold().split())


def distinct(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(words, min_size=min_size, max_size=max_size, unique_by=same)


@st.composite
def valid_question(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "text": draw(words)}
    if draw(st.booleans()):
        data["points"] = draw(st.integers(1, 10) | st.sampled_from([0.5, 0.1, 2.5]))
    if draw(st.booleans()):
        data["tags"] = draw(st.lists(st.sampled_from(["triage", "rete"]), max_size=2))
    if kind in ("single", "multiple"):
        texts = draw(distinct(2, 6))
        right = draw(st.sets(st.integers(0, len(texts) - 1), min_size=1, max_size=len(texts)))
        if kind == "single":
            right = {min(right)}
        data["options"] = [
            {"text": t, "correct": n in right, "feedback": draw(st.just("") | words)}
            for n, t in enumerate(texts)
        ]
    elif kind == "true_false":
        data["answer"] = draw(st.booleans())
    elif kind == "matching":
        lefts = draw(distinct(2, 5))
        rights = draw(distinct(2, len(lefts)))
        data["pairs"] = [
            {"left": left, "right": rights[n] if n < len(rights) else draw(st.sampled_from(rights))}
            for n, left in enumerate(lefts)
        ]
    elif kind == "ordering":
        data["items"] = draw(distinct(2, 6))
    else:
        data["answers"] = draw(st.lists(words, min_size=1, max_size=3))
    return data


@st.composite
def valid_quiz(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(TYPES[:6]), min_size=1, max_size=6))
    questions = [{"id": f"q{n}", **draw(valid_question(kind))} for n, kind in enumerate(kinds)]
    data: dict[str, Any] = {
        "pass_mark": draw(st.integers(0, 100) | st.floats(0, 100)),
        "shuffle_options": draw(st.booleans()),
        "questions": questions,
    }
    if draw(st.booleans()):
        data["draw"] = draw(st.integers(1, len(questions)))
    return data


@pytest.mark.slow  # hypothesis, many examples
@PROPERTY
@given(valid_quiz(), st.data())
def test_valid_quiz_parses_and_scores_any_allowed_answer(data: dict[str, Any], draw: st.DataObject):
    source = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    spec = parse_quiz_block(source, file="01-modulo.md", first_line=5)
    assert QuizSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    presented = present_attempt(spec, random.Random(draw.draw(st.integers(0, 1000))))
    assert len(presented["questions"]) == (data.get("draw") or len(data["questions"]))
    responses: dict[str, Any] = {}
    for shown in presented["questions"]:
        if draw.draw(st.booleans()):
            responses[shown["id"]] = _any_allowed_answer(shown, draw)
    result = score_attempt(spec, presented, responses)
    assert 0 <= result.percent <= 100
    assert all(0 <= q.fraction <= 1 for q in result.per_question)
    weights = [spec.question(q["id"]).weight for q in presented["questions"]]
    assert result.points_available == sum(weights)


@pytest.mark.slow  # hypothesis, many examples
@PROPERTY
@given(valid_quiz(), st.data())
def test_valid_quiz_with_one_value_spoilt(data: dict[str, Any], draw: st.DataObject):
    """Replace or drop one value anywhere: the parser still answers cleanly."""
    target: Any = data
    while True:
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        key = draw.draw(st.sampled_from(keys))
        if isinstance(target[key], dict | list) and target[key] and draw.draw(st.booleans()):
            target = target[key]
            continue
        if isinstance(target, dict) and draw.draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw.draw(anything)
        break
    parse_or_format_error(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def _any_allowed_answer(shown: dict[str, Any], draw: st.DataObject) -> Any:
    """A form the page could send for this question."""
    kind = shown["type"]
    if kind in ("single", "true_false"):
        return draw.draw(st.lists(st.sampled_from([o["id"] for o in shown["options"]]), max_size=1))
    if kind == "multiple":
        tokens = [o["id"] for o in shown["options"]]
        return draw.draw(st.lists(st.sampled_from(tokens), unique=True, max_size=len(tokens)))
    if kind == "matching":
        rights = [e["id"] for e in shown["right"]] + [""]
        return {e["id"]: draw.draw(st.sampled_from(rights)) for e in shown["left"]}
    if kind == "ordering":
        return draw.draw(st.permutations([e["id"] for e in shown["items"]]))
    return [draw.draw(st.text(max_size=30))]
