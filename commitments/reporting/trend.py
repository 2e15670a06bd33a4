"""Coverage over time, rebuilt from membership and completion dates.

Past coverage is not stored as figures: for each of the last 12 month-ends (and
the evaluation date itself) the staff in scope are the memberships current then,
and a person is covered when their completions up to that day were valid on it.
When the stored validity periods are built (``commitments.standing``), each
commitment's series is two grouped SQL queries that count, per instant, the
current memberships and those inside a validity period; otherwise the periods'
definition is replayed in Python from the completions. (A membership's audience
is its current one: audience changes are not historised.)

The chart is drawn by :mod:`commitments.reporting.charts` from these points.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from commitments import standing
from commitments.models import Commitment, ValidityPeriod
from commitments.rules.facts import rule_of
from commitments.rules.status import DEFAULT_EXPIRING_DAYS, Moment, facts_at
from courses.api import CourseCompletion
from lms.organisations.models import Membership

MONTHS = 12


@dataclass(frozen=True)
class TrendPoint:
    on: dt.date
    in_scope: int
    valid: int

    @property
    def percent(self) -> float | None:
        return 100 * self.valid / self.in_scope if self.in_scope else None


def month_ends(on: dt.date, count: int = MONTHS) -> list[dt.date]:
    """The last ``count`` month-ends up to ``on``, oldest first, then ``on`` if not one."""
    first_of_month = on.replace(day=1)
    ends = []
    cursor = on if (on + dt.timedelta(days=1)).day == 1 else first_of_month - dt.timedelta(days=1)
    while len(ends) < count:
        ends.append(cursor)
        cursor = cursor.replace(day=1) - dt.timedelta(days=1)
    ends.reverse()
    if ends[-1] != on:
        ends.append(on)
    return ends


def coverage_trend(
    session: Session,
    organisation_id: int,
    commitments: list[Commitment],
    moment: Moment,
    *,
    count: int = MONTHS,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
    unit_ids: Collection[int] | None = None,
) -> dict[int, list[TrendPoint]]:
    """Coverage of each commitment at each month-end (of the people now placed in
    ``unit_ids`` when given: a unit's trend follows its current staff)."""
    in_units = [] if unit_ids is None else [Membership.unit_id.in_(sorted(unit_ids))]
    days = month_ends(moment.on, count)
    if standing.is_built(session):
        standing.ensure_current(session)
        return {
            c.id: _counted_series(session, organisation_id, c, days, moment, in_units)
            for c in commitments
        }
    audience_ids = {a for c in commitments for a in c.audience_ids}
    course_ids = {cid for c in commitments for cid in c.course_ids}
    if not commitments or not audience_ids:
        return {c.id: [TrendPoint(d, 0, 0) for d in days] for c in commitments}
    in_org = [
        Membership.organisation_id == organisation_id,
        Membership.audience_id.in_(audience_ids),
        Membership.created_at <= moment.at,
        *in_units,
    ]
    memberships = list(
        session.execute(
            select(
                Membership.user_id,
                Membership.audience_id,
                Membership.created_at,
                Membership.ended_at,
            ).where(*in_org)
        )
    )
    completions: dict[tuple[int, int], list[tuple[dt.datetime, dt.datetime | None]]]
    completions = defaultdict(list)
    if course_ids:
        rows = session.execute(
            select(
                CourseCompletion.user_id,
                CourseCompletion.course_id,
                CourseCompletion.completed_at,
                CourseCompletion.expires_at,
            ).where(
                CourseCompletion.user_id.in_(select(Membership.user_id).where(*in_org)),
                CourseCompletion.course_id.in_(course_ids),
                CourseCompletion.completed_at <= moment.at,
            )
        )
        for user_id, course_id, completed_at, expires_at in rows:
            completions[(user_id, course_id)].append((completed_at, expires_at))

    by_user: dict[int, dict[int, list]] = defaultdict(dict)
    for (user_id, course_id), rows in completions.items():
        by_user[user_id][course_id] = rows
    plans = [(c.id, c.audience_ids, rule_of(c)) for c in commitments]
    series: dict[int, list[TrendPoint]] = {c.id: [] for c in commitments}
    for day in days:
        point = Moment.end_of(day) if day != moment.on else moment
        current = [
            (user_id, audience_id)
            for user_id, audience_id, created, ended in memberships
            if created <= point.at and (ended is None or ended > point.at)
        ]
        for commitment_id, scope, rule in plans:
            in_scope = valid = 0
            for user_id, audience_id in current:
                if audience_id not in scope:
                    continue
                in_scope += 1
                done = by_user.get(user_id)
                if done is None:  # never completed anything: never covered
                    continue
                facts = {cid: facts_at(rows, point.at) for cid, rows in done.items()}
                outcome, _cells = rule.evaluate(facts, point, expiring_days)
                valid += outcome.status.is_valid
            series[commitment_id].append(TrendPoint(day, in_scope, valid))
    return series


def _counted_series(
    session: Session,
    organisation_id: int,
    commitment: Commitment,
    days: list[dt.date],
    moment: Moment,
    in_units: list[Any],
) -> list[TrendPoint]:
    """In scope and covered at each instant: two queries, one sum per instant."""
    instants = [Moment.end_of(day).at if day != moment.on else moment.at for day in days]
    if not commitment.audience_ids:
        return [TrendPoint(day, 0, 0) for day in days]

    def member_at(at: dt.datetime) -> Any:
        return and_(
            Membership.created_at <= at,
            or_(Membership.ended_at.is_(None), Membership.ended_at > at),
        )

    def valid_at(at: dt.datetime) -> Any:
        return and_(
            member_at(at),
            ValidityPeriod.valid_from <= at,
            or_(ValidityPeriod.valid_until.is_(None), ValidityPeriod.valid_until > at),
        )

    scope = [
        Membership.organisation_id == organisation_id,
        Membership.audience_id.in_(commitment.audience_ids),
        *in_units,
    ]
    in_scope = session.execute(
        select(*[func.sum(case((member_at(at), 1), else_=0)) for at in instants]).where(*scope)
    ).one()
    covered = session.execute(
        select(*[func.sum(case((valid_at(at), 1), else_=0)) for at in instants])
        .select_from(Membership)
        .join(
            ValidityPeriod,
            and_(
                ValidityPeriod.user_id == Membership.user_id,
                ValidityPeriod.commitment_id == commitment.id,
            ),
        )
        .where(*scope)
    ).one()
    return [
        TrendPoint(day, int(total or 0), int(valid or 0))
        for day, total, valid in zip(days, in_scope, covered, strict=True)
    ]
