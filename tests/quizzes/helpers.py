"""Building quiz blocks in tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from textwrap import dedent

import pytest

from lms.errors import FormatError, FormatIssue
from quizzes.spec import QuizSpec, parse_quiz_block

FILE = "03-procedure-condivise.md"
FIRST = 20  # line of the module file where the block's YAML starts


def block(text: str) -> str:
    return dedent(text).lstrip("\n")


def parse(text: str) -> QuizSpec:
    return parse_quiz_block(block(text), file=FILE, first_line=FIRST)


def issues(text: str) -> list[FormatIssue]:
    with pytest.raises(FormatError) as caught:
        parse(text)
    assert caught.value.issues, "FormatError without issues"
    assert all(issue.file == FILE for issue in caught.value.issues)
    return caught.value.issues


def only_issue(text: str) -> FormatIssue:
    found = issues(text)
    assert len(found) == 1, [str(i) for i in found]
    return found[0]


@cache
def doc_example() -> str:
    """The quiz block of docs/course-format.md, without ``draw_tags``.

    The doc's example asks ``draw: 4`` from ``draw_tags: [triage]`` while only one question
    has that tag, which the parser rightly refuses.
    """
    doc = (Path(__file__).parents[2] / "docs" / "course-format.md").read_text(encoding="utf-8")
    start = doc.index("```quiz\n") + len("```quiz\n")
    source = doc[start : doc.index("```\n", start)]
    return source.replace("draw_tags: [triage]", "")


QUIZ_MODULE = """---
title: Triage
estimated_minutes: 1
---
Lezione sul triage.

```quiz
pass_mark: 75
attempts: {attempts}
cooldown_minutes: {cooldown}
{extra}
show_feedback: after_each_attempt
show_answers: after_passing
questions:
  - id: codice
    type: single
    text: Quale codice si assegna?
    options:
      - text: Codice bianco
        feedback: SEGRETO-FEEDBACK-BIANCO
      - text: Codice giallo
        correct: true
    feedback: SEGRETO-FEEDBACK-GENERALE
  - id: garanzie
    type: multiple
    text: Cosa si garantisce?
    options:
      - {{text: Stanza dedicata, correct: true}}
      - {{text: Figli con la madre, correct: true}}
      - {{text: Denuncia immediata}}
  - id: obi
    type: true_false
    text: L'OBI dura fino a 36/72 ore.
    answer: true
  - id: strumento
    type: short
    text: Quale strumento breve di valutazione del rischio?
    answers: [RISPOSTA-SEGRETA-DA5]
```
"""


def quiz_course_files(attempts: int = 0, cooldown: int = 0, extra: str = "") -> dict[str, bytes]:
    """The course ``corso-quiz``: one module, ``triage``, whose quiz has one question of
    each type and secrets (feedback, answers) that the pages must not show early."""
    course = """---
slug: corso-quiz
title: Corso con quiz
summary: Prova.
audiences: [all]
---
Intro.
"""
    return {
        "course.md": course.encode(),
        "01-triage.md": QUIZ_MODULE.format(
            attempts=attempts, cooldown=cooldown, extra=extra
        ).encode(),
    }
