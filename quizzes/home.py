"""A trainer's recent quiz results on the home page: attempts and pass rate per course.

The network's small-cell rule as the statistics pages apply it (:data:`stats.MIN_COUNT`):
a course whose attempts in the period come from fewer than 5 people says only that (one
person's five attempts are still one person).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from courses.api import CourseVersion, authored_courses, latest_versions_query
from lms import clock
from lms.accounts.models import User
from quizzes.models import Attempt, AttemptStatus
from quizzes.stats import MIN_COUNT

#: How far back "recent" results go.
RECENT_DAYS = 30


@dataclass(frozen=True)
class CourseResults:
    slug: str
    title: str
    attempts: int
    passed: int
    people: int = 0

    @property
    def withheld(self) -> bool:
        return self.attempts > 0 and self.people < MIN_COUNT

    @property
    def pass_rate(self) -> float | None:
        """Percent of attempts passed; None when withheld or when nobody tried."""
        if self.withheld or not self.attempts:
            return None
        return 100 * self.passed / self.attempts


def recent_results(
    session: Session, user: User, *, now: dt.datetime | None = None, limit: int = 5
) -> list[CourseResults]:
    """Submitted attempts of the last :data:`RECENT_DAYS` in the courses the trainer owns
    or co-authors, busiest first."""
    courses = authored_courses(session, user)
    if not courses:
        return []
    since = (now or clock.now()) - dt.timedelta(days=RECENT_DAYS)
    ids = [c.id for c in courses]
    counts = {
        course_id: (total, passed or 0, people)
        for course_id, total, passed, people in session.execute(
            select(
                Attempt.course_id,
                func.count(Attempt.id),
                func.sum(case((Attempt.passed.is_(True), 1), else_=0)),
                func.count(func.distinct(Attempt.user_id)),
            )
            .where(
                Attempt.course_id.in_(ids),
                Attempt.status == AttemptStatus.SUBMITTED,
                Attempt.submitted_at >= since,
            )
            .group_by(Attempt.course_id)
        )
    }
    titles = {
        v.course_id: v.title
        for v in session.scalars(latest_versions_query().where(CourseVersion.course_id.in_(ids)))
    }
    rows = [
        CourseResults(c.slug, titles.get(c.id, c.slug), *counts.get(c.id, (0, 0, 0)))
        for c in courses
    ]
    rows.sort(key=lambda r: (-r.attempts, r.title.lower()))
    return rows[:limit]
