""" "Enrol all in-scope staff who are not enrolled": the plan, then the action.

The plan comes from the same evaluation as the dashboard. For each person not
yet covered: every required course without a valid completion and without an
active enrolment; for "N of a set", courses of the set in the commitment's
order until N are valid or enrolled. The action goes through
``courses.api.enrol_members`` (which accepts the organisation's own
current staff only), one call per course.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from commitments.reporting.coverage import CommitmentReport, PersonRow, evaluate
from commitments.rules.status import Moment
from courses.api import enrol_members, published_version
from lms.accounts.models import User
from lms.errors import NotFound
from lms.organisations.models import Organisation
from lms.organisations.services import get_organisation


@dataclass(frozen=True)
class EnrolmentPlan:
    by_course: dict[int, list[int]]  # course id -> user ids
    titles: dict[int, str]

    @property
    def people(self) -> int:
        return len({u for users in self.by_course.values() for u in users})

    @property
    def enrolments(self) -> int:
        return sum(len(users) for users in self.by_course.values())


def _open(row: PersonRow, course_id: int) -> bool:
    """Neither valid nor actively enrolled."""
    cell = row.cells[course_id]
    return not cell.status.is_valid and not cell.enrolled


def _needed(report: CommitmentReport, row: PersonRow) -> list[int]:
    if row.status.is_valid:
        return []
    commitment = report.commitment
    wanted = [c.course_id for c in commitment.required_courses if _open(row, c.course_id)]
    if commitment.choose_count:
        optional = [c.course_id for c in commitment.optional_courses]
        taken = sum(1 for cid in optional if not _open(row, cid))
        for course_id in optional:
            if taken >= commitment.choose_count:
                break
            if _open(row, course_id):
                wanted.append(course_id)
                taken += 1
    return wanted


def plan_enrolment(reports: list[CommitmentReport], titles: dict[int, str]) -> EnrolmentPlan:
    by_course: dict[int, set[int]] = defaultdict(set)
    for report in reports:
        for row in report.rows:
            for course_id in _needed(report, row):
                by_course[course_id].add(row.user_id)
    return EnrolmentPlan(
        {cid: sorted(users) for cid, users in sorted(by_course.items())},
        {cid: titles.get(cid, str(cid)) for cid in by_course},
    )


@dataclass(frozen=True)
class OrganisationPlan:
    organisation: Organisation
    plan: EnrolmentPlan
    slugs: dict[int, str]  # course id -> slug, to find the published version


def organisation_plan(
    session: Session, organisation_id: int, moment: Moment, *, expiring_days: int
) -> OrganisationPlan:
    """What "enrol all" would do in ``organisation_id`` at ``moment``."""
    organisation = get_organisation(session, organisation_id)
    evaluation = evaluate(session, [organisation_id], moment, expiring_days=expiring_days)
    plan = plan_enrolment(evaluation.for_organisation(organisation_id), evaluation.course_titles)
    slugs = {link.course_id: link.course.slug for c in evaluation.commitments for link in c.courses}
    return OrganisationPlan(organisation, plan, slugs)


def enrol_all(
    session: Session, organisation_id: int, plan: EnrolmentPlan, slugs: dict[int, str], *, by: User
) -> int:
    """Enrol as planned; returns the number of new enrolments. The caller commits."""
    total = 0
    for course_id, user_ids in plan.by_course.items():
        try:
            version = published_version(session, slugs[course_id])
        except NotFound as error:
            raise NotFound(
                _("Il corso «%(title)s» non è pubblicato.", title=plan.titles[course_id])
            ) from error
        total += enrol_members(session, organisation_id, version, user_ids, by=by)
    return total
