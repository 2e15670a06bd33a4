"""An operator's "Da fare": what their organisation's commitments ask of them, and by when.

The same evaluation as the referent's dashboard (``reporting.coverage.evaluate``, narrowed
to one person), so the home page and the referent never disagree on a status; the home
adds one thing the dashboard does not need: "due soon" for work not done whose deadline
is near.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commitments.models import Commitment
from commitments.reporting.coverage import evaluate, member_filter
from commitments.rules.status import SEVERITY, Cell, Moment, Status
from lms.organisations.models import Membership

#: Work not done whose deadline is at most this many days away is "due soon".
DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class TodoCourse:
    course_id: int
    slug: str
    title: str
    required: bool
    cell: Cell | None


@dataclass(frozen=True)
class TodoItem:
    """One commitment that concerns the person."""

    commitment: Commitment
    organisation_name: str
    status: Status
    valid_until: dt.datetime | None
    days_to_deadline: int
    courses: tuple[TodoCourse, ...]

    @property
    def tone(self) -> str:
        """What the home page says first: late, expired, due soon, expiring, done, to do."""
        if self.status == Status.OVERDUE:
            return "late"
        if self.status == Status.EXPIRED:
            return "expired"
        if self.status == Status.EXPIRING:
            return "expiring"
        if self.status == Status.COMPLETE:
            return "done"
        if self.days_to_deadline <= DUE_SOON_DAYS:
            return "due_soon"
        return "todo"

    @property
    def done(self) -> bool:
        return self.status.is_valid


def todo_for(
    session: Session, user_id: int, *, expiring_days: int, moment: Moment | None = None
) -> list[TodoItem]:
    """Every active commitment that applies to one of the person's memberships, what needs
    attention first (late, expired, not started, ...), then by deadline."""
    moment = moment or Moment.now()
    org_ids = list(
        session.scalars(
            select(Membership.organisation_id).where(
                Membership.user_id == user_id, *member_filter(None, moment.at)
            )
        )
    )
    if not org_ids:
        return []
    evaluation = evaluate(
        session,
        org_ids,
        moment,
        expiring_days=expiring_days,
        with_names=False,
        user_id=user_id,
        depth="cells",
    )
    items: list[TodoItem] = []
    seen: set[int] = set()
    for org_id, reports in evaluation.reports.items():
        organisation = evaluation.organisations[org_id]
        for report in reports:
            mine = [r for r in report.rows if r.user_id == user_id]
            if not mine or report.commitment.id in seen:
                continue
            seen.add(report.commitment.id)
            row = mine[0]
            courses = tuple(
                TodoCourse(
                    link.course_id,
                    link.course.slug,
                    evaluation.course_titles.get(link.course_id, link.course.slug),
                    link.required,
                    row.cells.get(link.course_id),
                )
                for link in report.commitment.courses
            )
            items.append(
                TodoItem(
                    report.commitment,
                    organisation.name,
                    row.status,
                    row.valid_until,
                    report.days_to_deadline,
                    courses,
                )
            )
    items.sort(key=lambda i: (i.done, SEVERITY[i.status], i.commitment.deadline))
    return items
