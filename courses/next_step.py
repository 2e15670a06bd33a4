"""What a learner does next in each of their courses: the home page's "my courses".

One row per active enrolment with the progress, the exact module to continue from
and, for a completed cycle, when its renewal opens: the home page shows a renewal
button only when ``start_renewal`` would accept it, and the date otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from courses.enrolment import my_courses
from courses.models import CourseCompletion, CourseVersion, Enrolment, Module, ProgressStatus
from courses.progress import CourseProgress, progress_for, renewal_opens_at
from lms import clock


@dataclass(frozen=True)
class LearningRow:
    """One enrolled course on the home page."""

    version: CourseVersion
    enrolment: Enrolment
    progress: CourseProgress
    next_module: Module | None  # the first module not completed; None once completed
    renewal_opens: dt.datetime | None = None  # completed and renewable from then on
    renewal_open: bool = False

    @property
    def completion(self) -> CourseCompletion | None:
        return self.progress.completion

    @property
    def started(self) -> bool:
        return bool(self.progress.modules)


def next_module(version: CourseVersion, progress: CourseProgress) -> Module | None:
    """The first module, in course order, the person has not completed: required ones
    first (they decide completion), then optional ones; None when all are done."""
    for wanted in (True, False):
        for module in version.modules:
            if module.required is wanted and (
                progress.status_of(module.slug) != ProgressStatus.COMPLETED
            ):
                return module
    return None


def learning_rows(
    session: Session, user_id: int, *, now: dt.datetime | None = None
) -> list[LearningRow]:
    """The person's active enrolments: unfinished ones first, in title order."""
    now = now or clock.now()
    rows = []
    for version, enrolment in my_courses(session, user_id):
        progress = progress_for(session, user_id, version, enrolment=enrolment)
        if progress.completion is not None:
            opens = renewal_opens_at(progress.completion)
            rows.append(
                LearningRow(
                    version, enrolment, progress, None, opens, opens is not None and now >= opens
                )
            )
        else:
            rows.append(LearningRow(version, enrolment, progress, next_module(version, progress)))
    rows.sort(key=lambda r: r.completion is not None)  # stable: titles stay in order
    return rows
