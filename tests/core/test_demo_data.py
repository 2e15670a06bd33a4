"""``lms demo``: a staff in every status, a coverage trend, quiz statistics above the
small-cell threshold, live sessions with attendance; idempotent; on any date."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from certificates.models import Certificate
from commitments.reporting import trend
from commitments.reporting.services import evaluate_organisation
from commitments.rules.status import Moment, Status
from courses.api import CourseCompletion, Enrolment
from live_sessions.models import Attendance, LiveSession, Registration
from lms import clock, db
from lms.accounts.models import User
from lms.demo import PLANS, all_staff
from lms.organisations.models import Membership
from lms.organisations.services import organisation_by_code
from quizzes.attempts import spec_of
from quizzes.models import Attempt, Quiz
from quizzes.stats import MIN_COUNT, module_quizzes, quiz_stats


def _demo(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _statuses(code: str) -> set[Status]:
    org = organisation_by_code(db.session, code)
    evaluation = evaluate_organisation(db.session, org.id, Moment.now(), 90)
    return {s for r in evaluation.relevant(org.id) for s, n in r.counts.items() if n}


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (
            User,
            Membership,
            Enrolment,
            CourseCompletion,
            Certificate,
            Attempt,
            LiveSession,
            Registration,
            Attendance,
        )
    )


def _check_demo(app: Flask) -> None:
    output = _demo(app)
    assert "Dati dimostrativi pronti in" in output
    for plan in PLANS:
        members = db.session.scalar(
            select(func.count(Membership.id)).where(
                Membership.organisation_id == organisation_by_code(db.session, plan.org_code).id
            )
        )
        assert members >= plan.size
        assert _statuses(plan.org_code) == set(Status), plan.org_code
    staff = {p.email for p in all_staff()}
    assert all(e.endswith("@rete-milano.test") for e in staff) and len(staff) == 65

    # The coverage trend rises over several months.
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    report = evaluate_organisation(db.session, org.id, Moment.now(), 90).relevant(org.id)[0]
    points = trend.coverage_trend(db.session, org.id, [report.commitment], Moment.now())
    series = [p.valid for p in points[report.commitment.id]]
    assert len(set(series)) >= 4, series

    # Certificates issued by the certificates service, at different dates.
    months = {
        (c.completed_at.year, c.completed_at.month) for c in db.session.scalars(select(Certificate))
    }
    assert len(months) >= 10

    # Quiz statistics: every quiz of the starter courses above the small-cell threshold,
    # with passed and failed attempts.
    course_id = db.session.scalar(
        select(Quiz.course_id).join(Attempt, Attempt.quiz_id == Quiz.id).limit(1)
    )
    failed = 0
    for quiz in module_quizzes(db.session, course_id):
        stats = quiz_stats(db.session, course_id, quiz.module_slug, spec_of(quiz))
        assert not stats.withheld and stats.attempts >= MIN_COUNT
        failed += stats.attempts - stats.passed
    assert failed >= MIN_COUNT

    # Live sessions: one held (attendance recorded), one coming (registrations).
    now = clock.now()
    held = db.session.scalars(select(LiveSession).where(LiveSession.starts_at < now)).all()
    coming = db.session.scalars(select(LiveSession).where(LiveSession.starts_at > now)).all()
    assert held and coming
    assert db.session.scalar(select(func.count(Attendance.id))) >= 10
    assert db.session.scalar(select(func.count(Registration.id))) >= 25

    # A second run writes nothing.
    before = _counts()
    _demo(app)
    assert _counts() == before


def test_demo_today(app: Flask):
    _check_demo(app)


@pytest.mark.parametrize("days", [-250, 520])
def test_demo_on_another_date(app: Flask, days: int):
    with clock.frozen(clock.now() + dt.timedelta(days=days)):
        _check_demo(app)
