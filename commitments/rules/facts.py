"""Facts about people and courses, and the rule of a commitment, read from the database.

The one set-based query path behind both the exact evaluation
(``commitments.reporting.coverage``) and the stored standings (``commitments.standing``):
three aggregates grouped by person and course (completions, enrolments, module
activity) become :class:`~commitments.rules.status.CourseFacts`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from commitments.models import Commitment
from commitments.rules.status import LOCAL_TZ, Activity, CourseFacts, Rule
from courses.api import (
    CourseCompletion,
    CourseVersion,
    Enrolment,
    ModuleProgress,
    accreditation_of,
    course_hours,
    evidence_of,
)
from live_sessions.api import attended_hours


def gather_facts(
    session: Session,
    users_subquery,  # noqa: ANN001 - a scalar Select of user ids
    course_ids: Collection[int],
    at: dt.datetime,
) -> dict[tuple[int, int], CourseFacts]:
    """Completions, enrolments and activity per (user, course): three grouped queries."""
    if not course_ids:
        return {}
    completions = select(
        CourseCompletion.user_id,
        CourseCompletion.course_id,
        func.max(CourseCompletion.completed_at),
        func.max(CourseCompletion.expires_at),
        func.count(CourseCompletion.id) - func.count(CourseCompletion.expires_at),
    ).where(
        CourseCompletion.user_id.in_(users_subquery),
        CourseCompletion.course_id.in_(course_ids),
        CourseCompletion.completed_at <= at,
    )
    enrolments = select(Enrolment.user_id, Enrolment.course_id).where(
        Enrolment.user_id.in_(users_subquery),
        Enrolment.course_id.in_(course_ids),
        Enrolment.enrolled_at <= at,
        or_(Enrolment.ended_at.is_(None), Enrolment.ended_at > at),
    )
    activity = select(
        ModuleProgress.user_id, ModuleProgress.course_id, func.max(ModuleProgress.started_at)
    ).where(
        ModuleProgress.user_id.in_(users_subquery),
        ModuleProgress.course_id.in_(course_ids),
        ModuleProgress.started_at <= at,
    )
    raw: dict[tuple[int, int], dict] = defaultdict(dict)
    grouped = (CourseCompletion.user_id, CourseCompletion.course_id)
    for user_id, course_id, last, latest_expiry, no_expiry in session.execute(
        completions.group_by(*grouped)
    ):
        raw[(user_id, course_id)].update(
            last_completed_at=last, latest_expiry=latest_expiry, never_expires=bool(no_expiry)
        )
    for user_id, course_id in session.execute(enrolments):
        raw[(user_id, course_id)]["enrolled"] = True
    grouped = (ModuleProgress.user_id, ModuleProgress.course_id)
    for user_id, course_id, started in session.execute(activity.group_by(*grouped)):
        raw[(user_id, course_id)]["activity"] = started
    facts = {}
    for key, values in raw.items():
        last = values.get("last_completed_at")
        started = values.get("activity")
        # Module activity counts only when it follows the latest completion (a renewal).
        if started is not None and last is not None and started <= last:
            started = None
        facts[key] = CourseFacts(
            enrolled=values.get("enrolled", False),
            last_activity_at=started,
            last_completed_at=last,
            latest_expiry=values.get("latest_expiry"),
            never_expires=values.get("never_expires", False),
        )
    return facts


def gather_activities(
    session: Session,
    users_subquery,  # noqa: ANN001 - a scalar Select of user ids
    at: dt.datetime,
) -> dict[int, list[Activity]]:
    """What counts toward hours and credits, per person, up to ``at``: every course
    completion (any course: hours and credits are earned wherever the training was
    done) and every attended session. Two queries, plus the versions completed."""
    rows = list(
        session.execute(
            select(
                CourseCompletion.user_id,
                CourseCompletion.completed_at,
                CourseCompletion.expires_at,
                CourseCompletion.version_id,
            ).where(
                CourseCompletion.user_id.in_(users_subquery), CourseCompletion.completed_at <= at
            )
        )
    )
    versions = {
        v.id: v
        for v in session.scalars(
            select(CourseVersion).where(CourseVersion.id.in_({r[3] for r in rows}))
        )
    }
    earned = {version_id: _earned(version) for version_id, version in versions.items()}
    by_user: dict[int, list[Activity]] = defaultdict(list)
    for user_id, completed_at, expires_at, version_id in rows:
        hours, accreditation = earned[version_id]
        credits = Decimal(0)
        if accreditation is not None and accreditation.covers(
            completed_at.astimezone(LOCAL_TZ).date()
        ):
            credits = accreditation.credits
        by_user[user_id].append(Activity(completed_at, expires_at, hours, credits))
    for user_id, starts_at, hours in attended_hours(session, users_subquery, at):
        by_user[user_id].append(Activity(starts_at, None, hours))
    return by_user


def _earned(version: CourseVersion) -> tuple[Decimal, object]:
    """A version's certified hours (none under a profile without certificate hours) and
    its accreditation."""
    hours = course_hours(version) if evidence_of(version).certificate_hours else Decimal(0)
    return hours, accreditation_of(version)


def rule_of(commitment: Commitment) -> Rule:
    return Rule(
        required=tuple(c.course_id for c in commitment.courses if c.required),
        optional=tuple(c.course_id for c in commitment.courses if not c.required),
        choose_count=commitment.choose_count,
        renewal_months=commitment.renewal_months,
        deadline=commitment.deadline,
        hours=commitment.required_hours,
        credits=commitment.required_credits,
    )


def facts_by_user(
    facts: dict[tuple[int, int], CourseFacts],
) -> dict[int, dict[int, CourseFacts]]:
    by_user: dict[int, dict[int, CourseFacts]] = defaultdict(dict)
    for (user_id, course_id), value in facts.items():
        by_user[user_id][course_id] = value
    return by_user
