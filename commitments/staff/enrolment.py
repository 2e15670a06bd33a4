""" "Enrol all in-scope staff who are not enrolled": the plan, then the action.

The plan comes from the same evaluation as the dashboard. For each person not
yet covered: every required course without a valid completion and without an
active enrolment; for "N of a set", courses of the set in the commitment's
order until N are valid or enrolled. People already covered are read from the
stored standings (``evaluate(depth="people")``) and only the others get their
per-course cells, from the stored per-course states when they answer (one query,
no evaluation), else from the facts.
The action goes through ``courses.api.enrol_many`` (which accepts the
organisation's own current staff only): bulk statements and one
``learning_changed`` for the whole plan, so standings are recomputed once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from commitments import standing
from commitments.reporting.coverage import (
    CommitmentReport,
    PersonRow,
    evaluate,
    fill_cells,
    fill_stored_cells,
)
from commitments.rules.facts import rule_of
from commitments.rules.status import Moment
from courses.api import enrol_many, published_version
from lms import clock
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

    def slices(self, people: int) -> list[EnrolmentPlan]:
        """The plan cut into plans of at most ``people`` people each (every course of a
        person in the same slice), for a job that commits between slices."""
        everyone = sorted({u for users in self.by_course.values() for u in users})
        cuts = []
        for low in range(0, len(everyone), people):
            chosen = set(everyone[low : low + people])
            by_course = {
                cid: [u for u in users if u in chosen] for cid, users in self.by_course.items()
            }
            by_course = {cid: users for cid, users in by_course.items() if users}
            cuts.append(EnrolmentPlan(by_course, {cid: self.titles[cid] for cid in by_course}))
        return cuts


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
    evaluation = evaluate(
        session,
        [organisation_id],
        moment,
        expiring_days=expiring_days,
        with_names=False,
        depth="people",
    )
    reports = evaluation.for_organisation(organisation_id)
    stored = standing.usable(session, moment)
    for report in reports:  # cells only where a course may be missing
        open_rows = [row for row in report.rows if not row.status.is_valid]
        if stored and not rule_of(report.commitment).amounts:
            fill_stored_cells(session, open_rows, report.commitment, moment, expiring_days)
        else:
            fill_cells(session, open_rows, report.commitment, moment, expiring_days)
    plan = plan_enrolment(reports, evaluation.course_titles)
    slugs = {link.course_id: link.course.slug for c in evaluation.commitments for link in c.courses}
    return OrganisationPlan(organisation, plan, slugs)


def enrol_all(
    session: Session, organisation_id: int, plan: EnrolmentPlan, slugs: dict[int, str], *, by: User
) -> int:
    """Enrol as planned in one bulk batch; returns the number of new enrolments (people
    enrolled meanwhile are skipped, so a plan or slice applied twice adds nothing).
    The caller commits."""
    wanted = []
    for course_id, user_ids in plan.by_course.items():
        try:
            version = published_version(session, slugs[course_id])
        except NotFound as error:
            raise NotFound(
                _("Il corso «%(title)s» non è pubblicato.", title=plan.titles[course_id])
            ) from error
        wanted.append((version, user_ids))
    return enrol_many(session, organisation_id, wanted, by=by, now=clock.now())
