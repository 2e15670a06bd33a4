"""Demo data: the demo staff's questionnaires, answered through the survey service.

Called by ``commitments/demo.py`` when a demo person has studied every module; answering
completes the course (and so issues the certificate) at the moment set on the clock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from courses.api import CourseCompletion
from lms import clock
from lms.accounts.models import User
from surveys.answering import submit
from surveys.questions import questions

#: Scores spread across the scale, so that the questionnaire's report has a shape.
SCORE_ROWS = ((4, 5, 4, 5), (5, 4, 3, 4), (3, 4, 4, 3), (5, 5, 4, 5), (4, 3, 5, 4))


def answer_questionnaire(
    session: Session, user: User, course_id: int, at: dt.datetime, number: int
) -> CourseCompletion | None:
    """Answer the course's questionnaire at ``at``; the completion this made, if any."""
    row = SCORE_ROWS[number % len(SCORE_ROWS)]
    scale = [q for q in questions() if q.is_scale]
    values: dict[str, int | str | None] = {q.key: row[n % len(row)] for n, q in enumerate(scale)}
    with clock.frozen(at):
        return submit(session, user, course_id, questions(), values)
