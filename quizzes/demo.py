"""Demo data: quiz attempts of the demo staff, taken through the attempt services.

Called by ``commitments/demo.py`` as each demo person studies a module that ends with a
quiz; the clock is set to the moment of the attempt, so statistics and results carry
dates spread over the past months.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courses.api import CourseVersion, Module, ModuleProgress, minimum_study_seconds
from lms import clock
from lms.accounts.models import User
from quizzes.attempts import quiz_state, spec_of, start_attempt, submit_attempt
from quizzes.records import QuizSpec

#: How long a demo attempt takes.
ANSWERING = dt.timedelta(minutes=8)


def responses(spec: QuizSpec, presented: dict[str, Any], *, right: bool) -> dict[str, Any]:
    """Form values for the questions shown: all right, or (a failed attempt) right for
    one question in three only. The starter courses' questions are single choice."""
    values: dict[str, Any] = {}
    for n, shown in enumerate(presented["questions"]):
        question = spec.question(shown["id"])
        wanted = right or n % 3 == 0
        for option in shown.get("options", []):
            correct = next(o.correct for o in question.options if o.text == option["text"])
            if correct == wanted:
                values[shown["id"]] = [option["id"]]
                break
    return values


def _restudy(session: Session, user: User, version: CourseVersion, module: Module) -> None:
    """After a failed attempt the evidence profile asks to re-read the module first."""
    row = session.scalar(
        select(ModuleProgress)
        .where(
            ModuleProgress.user_id == user.id,
            ModuleProgress.course_id == version.course_id,
            ModuleProgress.module_slug == module.slug,
        )
        .order_by(ModuleProgress.cycle.desc())
        .limit(1)
    )
    if row is not None:
        row.time_spent_seconds += max(minimum_study_seconds(version, module), 600)
        session.flush()


def take_quiz(
    session: Session,
    user: User,
    version: CourseVersion,
    module: Module,
    at: dt.datetime,
    *,
    right: bool,
) -> bool:
    """One attempt started at ``at``; whether it passed (a pass completes the module)."""
    with clock.frozen(at):
        state = quiz_state(session, user, version, module)
        if state.needs_study:
            _restudy(session, user, version, module)
            state = quiz_state(session, user, version, module)
        if not state.can_start:
            return False
        attempt = start_attempt(session, user, version, module)
    with clock.frozen(at + ANSWERING):
        values = responses(spec_of(attempt.quiz), attempt.presented, right=right)
        attempt = submit_attempt(session, user, attempt.id, values)
    return bool(attempt.passed)
