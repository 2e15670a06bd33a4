"""Building quiz blocks in tests."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from textwrap import dedent

import pytest

from lms.errors import FormatError, FormatIssue
from quizzes.spec import QuizSpec, parse_quiz_block
from tests.conftest import csrf_token, post_form

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
{lesson}

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


COURSE_MD = """---
slug: corso-quiz
title: Corso con quiz
summary: Prova.
audiences: [all]
{extra}---
Intro.
"""


def quiz_course_files(
    attempts: int = 0,
    cooldown: int = 0,
    extra: str = "",
    *,
    course_extra: str = "",
    lesson: str = "Lezione sul triage.",
) -> dict[str, bytes]:
    """The course ``corso-quiz``: one module, ``triage``, whose quiz has one question of
    each type and secrets (feedback, answers) that the pages must not show early.

    ``extra``: more lines of the quiz block; ``course_extra``: more header lines of
    ``course.md`` (``"evidence: professional\n"``); ``lesson``: the module's text, whose
    length sets its computed duration (600 characters a minute, rounded up).
    """
    return {
        "course.md": COURSE_MD.format(extra=course_extra).encode(),
        "01-triage.md": QUIZ_MODULE.format(
            attempts=attempts, cooldown=cooldown, extra=extra, lesson=lesson
        ).encode(),
    }


BANK_MODULE = """---
title: Triage
estimated_minutes: 1
---
Lezione sul triage.

```quiz
pass_mark: 75
attempts: {attempts}
{extra}
questions:
{questions}
```
"""

BANK_QUESTION = """  - id: b{n}
    type: single
    text: Domanda {n}?
    options:
      - {{text: Giusta {n}, correct: true}}
      - {{text: Sbagliata {n}a}}
      - {{text: Sbagliata {n}b}}
      - {{text: Sbagliata {n}c}}
"""


def bank_course_files(
    size: int,
    *,
    draw: int | None = None,
    attempts: int = 0,
    course_extra: str = "",
    extra: str = "",
) -> dict[str, bytes]:
    """``corso-quiz`` with a bank of ``size`` single-choice questions of 4 options
    (ids ``b1``..., as the ECM rules shape them), ``draw`` of them per attempt."""
    lines = extra + (f"\ndraw: {draw}" if draw is not None else "")
    questions = "".join(BANK_QUESTION.format(n=n) for n in range(1, size + 1))
    return {
        "course.md": COURSE_MD.format(extra=course_extra).encode(),
        "01-triage.md": BANK_MODULE.format(
            attempts=attempts, extra=lines, questions=questions
        ).encode(),
    }


# --- Through the web, as a learner's browser ------------------------------------------


def start(client) -> tuple[int, str]:
    quiz_page = "/quizzes/corso-quiz/triage/"
    response = post_form(client, quiz_page + "start", {}, form_url=quiz_page)
    assert response.status_code == 302, response.get_data(as_text=True)
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return attempt_id, client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)


def answers(html: str, *, right: bool) -> dict[str, object]:
    """Fill the form as a learner would, reading option tokens from the page."""

    def token(question: str, label: str) -> str:
        match = re.search(
            rf'<input[^>]* name="q::{question}" id="[^"]+" value="([^"]+)">\s*'
            rf"<label[^>]*>{re.escape(label)}<",
            html,
        )
        assert match, (question, label)
        return match.group(1)

    if right:
        return {
            "q::codice": token("codice", "Codice giallo"),
            "q::garanzie": [
                token("garanzie", "Stanza dedicata"),
                token("garanzie", "Figli con la madre"),
            ],
            "q::obi": "true",
            "q::strumento": "risposta segreta da5",
        }
    return {"q::codice": token("codice", "Codice bianco"), "q::obi": "false"}


def submit(client, attempt_id: int, data: dict[str, object]):
    page = f"/quizzes/attempts/{attempt_id}"
    return client.post(page, data={"csrf_token": csrf_token(client, "/"), **data})
