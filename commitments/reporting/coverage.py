"""Statuses and coverage of whole organisations, in a constant number of queries.

``evaluate`` is the one query path behind the referent dashboard, the exports,
the network view and the digest. Whatever the number of staff or
organisations, it runs the same statements: organisations, commitments (with
their courses and audiences), course titles, the members in scope, and three
aggregates grouped by person and course (completions, enrolments, module
activity), plus, when a commitment asks for hours or credits, the completions with their
versions and the attended sessions (``rules.facts.gather_activities``). Statuses are
then derived in Python (``commitments.rules.status``).

Indexes used: ``lms_membership.organisation_id``; ``courses_completion``
(user_id) and (course_id, user_id); the unique keys of ``courses_enrolment``
(user_id, course_id) and ``courses_module_progress`` (user_id, course_id, ...).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from commitments import standing
from commitments.models import (
    Commitment,
    CommitmentCourse,
    CourseState,
    StandingRow,
    commitment_audience,
)
from commitments.rules.facts import facts_by_user, gather_activities, gather_facts, rule_of
from commitments.rules.status import (
    DEFAULT_EXPIRING_DAYS,
    STATUS_ORDER,
    AmountPart,
    Cell,
    Moment,
    Status,
    stored_status,
)
from courses.api import CourseVersion, latest_versions_query
from lms.accounts.models import User
from lms.organisations.models import Membership, Organisation

Depth = Literal["cells", "people", "counts"]


@dataclass
class PersonRow:
    user_id: int
    organisation_id: int
    audience_id: int
    status: Status
    valid_until: dt.datetime | None
    cells: dict[int, Cell]
    full_name: str = ""
    email: str = ""
    # Hours and credits counted at the moment against those required (with the cells).
    amounts: tuple[AmountPart, ...] = ()


@dataclass
class CommitmentReport:
    """One commitment in one organisation: its staff in scope and their statuses.

    ``tally`` gives the counts when the people themselves were not fetched
    (``depth="counts"``); otherwise they are counted from ``rows``.
    """

    commitment: Commitment
    organisation_id: int
    moment: Moment
    rows: list[PersonRow]
    expiring_days: int = DEFAULT_EXPIRING_DAYS
    tally: dict[Status, int] | None = None
    counts: dict[Status, int] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = {status: 0 for status in STATUS_ORDER}
        if self.tally is not None:
            self.counts.update(self.tally)
            return
        for row in self.rows:
            self.counts[row.status] += 1

    @property
    def in_scope(self) -> int:
        return sum(self.counts.values())

    @property
    def valid(self) -> int:
        return self.counts[Status.COMPLETE] + self.counts[Status.EXPIRING]

    @property
    def coverage(self) -> Fraction | None:
        """Share of in-scope staff with a valid completion (None: nobody in scope)."""
        return Fraction(self.valid, self.in_scope) if self.in_scope else None

    @property
    def coverage_percent(self) -> float | None:
        return None if self.coverage is None else float(self.coverage * 100)

    @property
    def target_met(self) -> bool:
        return self.coverage is not None and self.coverage * 100 >= self.commitment.target_percent

    @property
    def missing_for_target(self) -> int:
        """How many more people need a valid completion to reach the target."""
        needed = -(-self.commitment.target_percent * self.in_scope // 100)  # ceiling
        return max(0, needed - self.valid)

    @property
    def deadline_passed(self) -> bool:
        return self.moment.on > self.commitment.deadline

    @property
    def days_to_deadline(self) -> int:
        return (self.commitment.deadline - self.moment.on).days


@dataclass
class Evaluation:
    moment: Moment
    organisations: dict[int, Organisation]
    commitments: list[Commitment]
    course_titles: dict[int, str]
    reports: dict[int, list[CommitmentReport]]

    def for_organisation(self, organisation_id: int) -> list[CommitmentReport]:
        return self.reports.get(organisation_id, [])

    def relevant(self, organisation_id: int) -> list[CommitmentReport]:
        """Commitments with staff in scope; every applicable one when none has any.

        Network-wide commitments apply to every organisation; those about
        profiles it does not employ would only clutter its pages and files.
        """
        reports = self.for_organisation(organisation_id)
        return [r for r in reports if r.in_scope] or reports


def active_commitments(session: Session) -> list[Commitment]:
    return list(
        session.scalars(
            select(Commitment)
            .where(Commitment.active.is_(True))
            .options(
                selectinload(Commitment.courses).selectinload(CommitmentCourse.course),
                selectinload(Commitment.audiences),
            )
            .order_by(Commitment.title)
        )
    )


def course_titles(session: Session, course_ids: Iterable[int]) -> dict[int, str]:
    """Titles of the latest published versions (slug when none is published)."""
    ids = set(course_ids)
    if not ids:
        return {}
    stmt = latest_versions_query().where(CourseVersion.course_id.in_(ids))
    stmt = stmt.with_only_columns(CourseVersion.course_id, CourseVersion.title)
    return {course_id: title for course_id, title in session.execute(stmt)}


def member_filter(
    organisation_ids: Collection[int] | None,
    at: dt.datetime,
    unit_ids: Collection[int] | None = None,
) -> list:
    """Memberships current at ``at`` (created before it, not yet ended), placed in one of
    ``unit_ids`` when given (a unit referent's subtree, or the unit a reader chose)."""
    clauses = [
        Membership.created_at <= at,
        or_(Membership.ended_at.is_(None), Membership.ended_at > at),
    ]
    if organisation_ids is not None:
        clauses.append(Membership.organisation_id.in_(organisation_ids))
    if unit_ids is not None:
        clauses.append(Membership.unit_id.in_(sorted(unit_ids)))
    return clauses


def evaluate(
    session: Session,
    organisation_ids: Collection[int] | None,
    moment: Moment,
    *,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
    with_names: bool = True,
    user_id: int | None = None,
    commitments: list[Commitment] | None = None,
    depth: Depth = "cells",
    unit_ids: Collection[int] | None = None,
) -> Evaluation:
    """Statuses of every in-scope person of the given organisations (None: all).

    ``with_names=False`` never reads names or e-mail addresses (network view).
    ``user_id`` narrows to one person (detail page). ``depth``: ``"cells"`` derives
    every person's per-course cells from the facts (exact at any moment);
    ``"people"`` gives rows without cells (:func:`fill_cells` adds them where
    shown) and ``"counts"`` only the counts, both read from the stored standings
    when they answer for the moment (``commitments.standing``), else as ``"cells"``.
    ``unit_ids`` keeps only the people placed in those units (None: everyone).
    """
    org_stmt = select(Organisation).order_by(Organisation.type, Organisation.name)
    if organisation_ids is not None:
        org_stmt = org_stmt.where(Organisation.id.in_(organisation_ids))
    else:
        org_stmt = org_stmt.where(Organisation.active.is_(True))
    organisations = {o.id: o for o in session.scalars(org_stmt)}
    if commitments is None:
        commitments = active_commitments(session)
    applicable = {
        org_id: [c for c in commitments if c.applies_to(org)]
        for org_id, org in organisations.items()
    }
    used = {c.id: c for cs in applicable.values() for c in cs}
    audience_ids = {a for c in used.values() for a in c.audience_ids}
    course_ids = {cid for c in used.values() for cid in c.course_ids}
    titles = course_titles(session, course_ids)

    reports: dict[int, list[CommitmentReport]] = {}
    if not used or not audience_ids or not organisations:
        return Evaluation(moment, organisations, list(used.values()), titles, reports)

    if depth != "cells" and standing.usable(session, moment):
        if depth == "counts" and user_id is None:
            reports = _counted(session, list(used.values()), applicable, moment, expiring_days)
        else:
            reports = {org_id: [] for org_id in applicable}
            for commitment in used.values():
                orgs = [o for o, cs in applicable.items() if commitment in cs]
                made = _from_standings(
                    session, commitment, orgs, moment, expiring_days, with_names, user_id, unit_ids
                )
                for report in made:
                    reports[report.organisation_id].append(report)
        for org_id, org_commitments in applicable.items():
            order = {c.id: i for i, c in enumerate(org_commitments)}
            reports[org_id].sort(key=lambda r: order[r.commitment.id])
        return Evaluation(moment, organisations, list(used.values()), titles, reports)

    filters = [
        *member_filter(list(organisations), moment.at, unit_ids),
        Membership.audience_id.in_(audience_ids),
    ]
    if user_id is not None:
        filters.append(Membership.user_id == user_id)
    columns = [Membership.organisation_id, Membership.user_id, Membership.audience_id]
    if with_names:
        member_stmt = (
            select(*columns, User.full_name, User.email)
            .join(User, User.id == Membership.user_id)
            .where(*filters)
            .order_by(func.lower(User.full_name), User.id)
        )
    else:
        member_stmt = select(*columns).where(*filters)
    members = list(session.execute(member_stmt))
    users = select(Membership.user_id).where(*filters)
    facts = gather_facts(session, users, course_ids, moment.at)

    by_user = facts_by_user(facts)
    rules = {c.id: rule_of(c) for c in used.values()}
    activities = (
        gather_activities(session, users, moment.at)
        if any(rule.amounts for rule in rules.values())
        else {}
    )
    scopes = {c.id: c.audience_ids for c in used.values()}
    by_org: dict[int, list] = defaultdict(list)
    for member in members:
        by_org[member[0]].append(member)
    for org_id, org_commitments in applicable.items():
        org_reports = []
        for commitment in org_commitments:
            scope, rule = scopes[commitment.id], rules[commitment.id]
            rows = []
            for member in by_org.get(org_id, ()):
                if member[2] not in scope:
                    continue
                outcome, cells = rule.evaluate(
                    by_user.get(member[1], {}), moment, expiring_days, activities.get(member[1], ())
                )
                row = PersonRow(
                    member[1], org_id, member[2], outcome.status, outcome.valid_until, cells
                )
                row.amounts = outcome.amounts
                if with_names:
                    row.full_name, row.email = member[3], member[4]
                rows.append(row)
            org_reports.append(
                CommitmentReport(commitment, org_id, moment, rows, expiring_days=expiring_days)
            )
        reports[org_id] = org_reports
    return Evaluation(moment, organisations, list(used.values()), titles, reports)


def _in_scope(
    commitment: Commitment,
    organisation_ids: list[int],
    moment: Moment,
    unit_ids: Collection[int] | None = None,
) -> list:
    return [
        *member_filter(organisation_ids, moment.at, unit_ids),
        Membership.audience_id.in_(commitment.audience_ids),
    ]


def _joined_standing(commitment: Commitment):  # noqa: ANN202 - an ON clause
    return and_(
        StandingRow.user_id == Membership.user_id, StandingRow.commitment_id == commitment.id
    )


def _counted(
    session: Session,
    commitments: list[Commitment],
    applicable: dict[int, list[Commitment]],
    moment: Moment,
    expiring_days: int,
    unit_ids: Collection[int] | None = None,
) -> dict[int, list[CommitmentReport]]:
    """Status counts per organisation and commitment in one grouped query (no person
    is read): each in-scope membership once per commitment of its profile, in a bucket
    that the deadline then names (past it, whatever is not valid is overdue)."""
    row = StandingRow
    valid = and_(
        row.satisfied.is_(True), or_(row.valid_until.is_(None), row.valid_until > moment.at)
    )
    expiring_from = moment.at + dt.timedelta(days=expiring_days)
    bucket = case(
        (and_(valid, row.valid_until.is_not(None), row.valid_until <= expiring_from), "expiring"),
        (valid, "complete"),
        (row.satisfied.is_(True), "expired"),
        else_=func.coalesce(row.progress, "not_enrolled"),
    )
    link = commitment_audience.c
    counts: dict[tuple[int, int], dict[Status, int]] = {
        (c.id, org_id): {} for org_id, cs in applicable.items() for c in cs
    }
    if counts:
        stmt = (
            select(link.commitment_id, Membership.organisation_id, bucket, func.count())
            .select_from(Membership)
            .join(commitment_audience, link.audience_id == Membership.audience_id)
            .outerjoin(
                row,
                and_(row.user_id == Membership.user_id, row.commitment_id == link.commitment_id),
            )
            .where(
                *member_filter(list(applicable), moment.at, unit_ids),
                link.commitment_id.in_([c.id for c in commitments]),
            )
            .group_by(link.commitment_id, Membership.organisation_id, bucket)
        )
        deadlines = {c.id: c.deadline for c in commitments}
        for commitment_id, org_id, value, number in session.execute(stmt):
            tally = counts.get((commitment_id, org_id))
            if tally is None:
                continue  # a profile the commitment covers, in an organisation it skips
            status = Status(value)
            if moment.on > deadlines[commitment_id] and not status.is_valid:
                status = Status.OVERDUE
            tally[status] = tally.get(status, 0) + number
    by_id = {c.id: c for c in commitments}
    reports: dict[int, list[CommitmentReport]] = {org_id: [] for org_id in applicable}
    for (commitment_id, org_id), tally in counts.items():
        reports[org_id].append(
            CommitmentReport(by_id[commitment_id], org_id, moment, [], expiring_days, tally=tally)
        )
    return reports


def _from_standings(
    session: Session,
    commitment: Commitment,
    organisation_ids: list[int],
    moment: Moment,
    expiring_days: int,
    with_names: bool,
    user_id: int | None,
    unit_ids: Collection[int] | None = None,
) -> list[CommitmentReport]:
    """Every in-scope person with their status, from the stored standings; no cells."""
    rows: dict[int, list[PersonRow]] = {org_id: [] for org_id in organisation_ids}
    if commitment.audience_ids and organisation_ids:
        filters = _in_scope(commitment, organisation_ids, moment, unit_ids)
        if user_id is not None:
            filters.append(Membership.user_id == user_id)
        columns = [
            Membership.organisation_id,
            Membership.user_id,
            Membership.audience_id,
            StandingRow.satisfied,
            StandingRow.valid_until,
            StandingRow.progress,
        ]
        stmt = (
            select(*columns)
            .select_from(Membership)
            .outerjoin(StandingRow, _joined_standing(commitment))
            .where(*filters)
        )
        if with_names:
            stmt = (
                stmt.add_columns(User.full_name, User.email)
                .join(User, User.id == Membership.user_id)
                .order_by(func.lower(User.full_name), User.id)
            )
        deadline, window = commitment.deadline, dt.timedelta(days=expiring_days)
        for org_id, person_id, audience_id, satisfied, until, progress, *names in session.execute(
            stmt
        ):
            status, valid = stored_status(satisfied, until, progress, moment, deadline, window)
            row = PersonRow(person_id, org_id, audience_id, status, valid, {})
            if names:
                row.full_name, row.email = names
            rows[org_id].append(row)
    return [
        CommitmentReport(commitment, org_id, moment, org_rows, expiring_days=expiring_days)
        for org_id, org_rows in rows.items()
    ]


def fill_cells(
    session: Session,
    rows: Iterable[PersonRow],
    commitment: Commitment,
    moment: Moment,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
) -> None:
    """Give rows read without cells (``depth="people"``) their per-course cells."""
    missing = {row.user_id: row for row in rows if not row.cells}
    if not missing:
        return
    users = select(User.id).where(User.id.in_(list(missing)))
    by_user = facts_by_user(gather_facts(session, users, commitment.course_ids, moment.at))
    rule = rule_of(commitment)
    activities = gather_activities(session, users, moment.at) if rule.amounts else {}
    for user_id, row in missing.items():
        outcome, row.cells = rule.evaluate(
            by_user.get(user_id, {}), moment, expiring_days, activities.get(user_id, ())
        )
        row.amounts = outcome.amounts


def fill_stored_cells(
    session: Session,
    rows: Iterable[PersonRow],
    commitment: Commitment,
    moment: Moment,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
) -> None:
    """:func:`fill_cells` from the stored per-course states (one query), for a moment
    the standings answer for (``standing.usable``) and a commitment asking no hours or
    credits (their amounts need the activities: :func:`fill_cells`)."""
    missing = {row.user_id: row for row in rows if not row.cells}
    if not missing:
        return
    states: dict[tuple[int, int], tuple] = {}
    stmt = select(
        CourseState.user_id,
        CourseState.course_id,
        CourseState.completed_at,
        CourseState.valid_until,
        CourseState.enrolled,
        CourseState.progress,
    ).where(CourseState.commitment_id == commitment.id, CourseState.user_id.in_(list(missing)))
    for user_id, course_id, *state in session.execute(stmt):
        states[(user_id, course_id)] = tuple(state)
    window = dt.timedelta(days=expiring_days)
    for user_id, row in missing.items():
        row.cells = {
            course_id: stored_cell(states.get((user_id, course_id)), moment, window)
            for course_id in commitment.course_ids
        }


def stored_cell(state: tuple | None, moment: Moment, window: dt.timedelta) -> Cell:
    """:func:`commitments.rules.status.course_cell` on a stored state (None: no row)."""
    if state is None:
        return Cell(Status.NOT_ENROLLED)
    completed_at, until, enrolled, progress = state
    if completed_at is None:
        return Cell(Status(progress), enrolled=True)
    if until is not None and until <= moment.at:
        status = Status.EXPIRED
    elif until is not None and until - moment.at <= window:
        status = Status.EXPIRING
    else:
        status = Status.COMPLETE
    return Cell(status, completed_at, until, enrolled)
