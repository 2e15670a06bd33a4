"""What a result page may show: the score always; verdicts, feedback and right answers
when the quiz and the course's evidence profile allow them.

Under a profile that reveals answers at the end of the course ("after_course", as the ECM
rules ask), nothing that tells which answer is right is shown before the course has a
completion in the attempt's cycle: no right answers, no feedback, and no per-question
verdict either, since "correct" or "wrong" next to the learner's own answer gives the
right one away (wholly for true/false; by elimination over a few attempts for the rest).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from courses.api import CourseCompletion
from quizzes.models import Attempt
from quizzes.records import QuizSpec
from quizzes.rules import AttemptRules


@dataclass(frozen=True)
class Visibility:
    verdicts: bool  # each question marked correct, partly correct or not
    feedback: bool
    answers: bool
    #: Hidden only until the course is complete: the page says so.
    after_course: bool = False


_COMPLETED = select(
    exists().where(
        CourseCompletion.user_id == bindparam("user_id"),
        CourseCompletion.course_id == bindparam("course_id"),
        CourseCompletion.cycle == bindparam("cycle"),
    )
)


def course_completed(session: Session, attempt: Attempt) -> bool:
    """Whether the course has a completion in the attempt's cycle."""
    keys = {"user_id": attempt.user_id, "course_id": attempt.course_id, "cycle": attempt.cycle}
    return bool(session.scalar(_COMPLETED, keys))


def visible_feedback(
    spec: QuizSpec, rules: AttemptRules, *, passed_ever: bool, course_completed: bool
) -> Visibility:
    """What this quiz's result pages may show now.

    Before the course is complete under "after_course", only the score. Afterwards, the
    quiz's own settings apply, with "after_passing" met (the course is done); a quiz that
    never shows feedback or answers keeps it so.
    """
    if rules.reveal_after_course:
        if not course_completed:
            return Visibility(verdicts=False, feedback=False, answers=False, after_course=True)
        return Visibility(
            verdicts=True,
            feedback=spec.show_feedback != "never",
            answers=spec.show_answers != "never",
        )

    def allowed(rule: str) -> bool:
        return rule == "after_each_attempt" or (rule == "after_passing" and passed_ever)

    return Visibility(
        verdicts=True, feedback=allowed(spec.show_feedback), answers=allowed(spec.show_answers)
    )
