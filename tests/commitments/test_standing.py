"""Stored standings: the same statuses as the exact evaluation, kept current in the
transaction of every change, rebuilt after bulk writes, ignored when not built."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from commitments import standing
from commitments.models import StandingRow
from commitments.reporting.coverage import evaluate
from commitments.reporting.trend import coverage_trend
from commitments.rules.status import (
    CourseFacts,
    Moment,
    Rule,
    facts_at,
    standing_of,
    status_at,
    validity_periods,
)
from courses.enrolment import enrol
from courses.models import EnrolmentSource
from courses.progress import complete_module
from lms import db
from lms.settings import Setting
from tests.commitments.helpers import (
    PL,
    bulk_completions,
    bulk_staff,
    complete,
    make_commitment,
    org_id,
)
from tests.commitments.test_coverage import MONTH, NOW, staff_of_every_kind

UTC = dt.UTC
BASE = dt.datetime(2026, 1, 1, tzinfo=UTC)

# --- The pure part: standing then status == the exact rule, at any later moment ----------

instants = st.integers(min_value=-2000, max_value=0).map(lambda d: BASE + dt.timedelta(days=d))


@st.composite
def course_facts(draw: st.DrawFn) -> CourseFacts:
    enrolled = draw(st.booleans())
    completed = draw(st.none() | instants)
    expiry = None
    if completed is not None and draw(st.booleans()):
        expiry = completed + dt.timedelta(days=draw(st.integers(1, 1500)))
    activity = draw(st.none() | instants)
    if activity is not None and completed is not None and activity <= completed:
        activity = None  # gather_facts drops activity before the latest completion
    return CourseFacts(
        enrolled=enrolled,
        last_activity_at=activity,
        last_completed_at=completed,
        latest_expiry=expiry,
        never_expires=completed is not None and expiry is None and draw(st.booleans()),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple:
    required = tuple(range(draw(st.integers(0, 3))))
    optional = tuple(range(10, 10 + draw(st.integers(0, 3))))
    rule = Rule(
        required=required,
        optional=optional,
        choose_count=draw(st.integers(0, len(optional))),
        renewal_months=draw(st.none() | st.integers(1, 48)),
        deadline=(BASE + dt.timedelta(days=draw(st.integers(-400, 400)))).date(),
    )
    facts = {c: draw(course_facts()) for c in rule.course_ids if draw(st.booleans())}
    later = BASE + dt.timedelta(
        days=draw(st.integers(0, 2500)), seconds=draw(st.integers(0, 86399))
    )
    return rule, facts, Moment.now(later), draw(st.integers(0, 365))


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_status_from_a_standing_equals_the_exact_rule(scenario: tuple) -> None:
    rule, facts, moment, expiring_days = scenario
    exact, _cells = rule.evaluate(facts, moment, expiring_days)
    derived = status_at(standing_of(rule, facts), moment, rule.deadline, expiring_days)
    assert derived == exact


# --- On the database ------------------------------------------------------------------


def _people(org: int, commitment_id: int, depth: str) -> dict[int, tuple]:
    reports = evaluate(db.session, [org], Moment.now(), depth=depth).for_organisation(org)
    report = next(r for r in reports if r.commitment.id == commitment_id)
    return {row.user_id: (row.status, row.valid_until) for row in report.rows}


def _counts(org: int, commitment_id: int, depth: str) -> dict:
    reports = evaluate(db.session, [org], Moment.now(), depth=depth).for_organisation(org)
    return next(r for r in reports if r.commitment.id == commitment_id).counts


def stored_standings() -> set[tuple]:
    """Every stored standing, as plain tuples (compared across rebuilds)."""
    return set(
        db.session.execute(
            select(
                StandingRow.commitment_id,
                StandingRow.user_id,
                StandingRow.satisfied,
                StandingRow.valid_until,
                StandingRow.progress,
            )
        )
    )


def test_stored_standings_agree_with_the_exact_evaluation(ctx, make_user, two_courses):
    network, specific = two_courses
    both = make_commitment([network, specific], target=80)
    either = make_commitment(
        [],
        code="uno-dei-due",
        optional=[network, specific],
        choose=1,
        renewal_months=12,
        deadline=dt.date(2024, 1, 31),  # passed: overdue where not valid
    )
    staff_of_every_kind(make_user, network, specific)
    pl = org_id(PL)
    assert standing.usable(db.session, Moment.now())
    assert db.session.scalar(select(StandingRow.user_id).limit(1)) is not None
    mixes = []
    for commitment in (both, either):
        exact = _people(pl, commitment.id, "cells")
        assert _people(pl, commitment.id, "people") == exact
        assert _counts(pl, commitment.id, "counts") == _counts(pl, commitment.id, "cells")
        mixes.append({status.value for status, _until in exact.values()})
    assert {"complete", "expiring", "expired", "not_started", "in_progress"} <= mixes[0]
    assert {"complete", "overdue"} <= mixes[1]


def test_standings_follow_each_change_in_its_own_transaction(ctx, make_user, two_courses):
    network, specific = two_courses
    commitment = make_commitment([network, specific], target=80)
    person = make_user(org=PL, name="Ilaria Incrementale")
    pl = org_id(PL)

    def status() -> str:
        return _people(pl, commitment.id, "people")[person.id][0].value

    assert status() == "not_enrolled"
    enrol(db.session, person, network, source=EnrolmentSource.REFERENT)
    assert status() == "not_started"  # read in the same transaction, before any commit
    db.session.commit()
    complete_module(db.session, person, network, "primo", now=NOW - 2 * MONTH)
    assert status() == "in_progress"
    enrol(db.session, person, specific, source=EnrolmentSource.SELF)
    complete_module(db.session, person, specific, "primo", now=NOW - 2 * MONTH)
    db.session.commit()
    assert status() == "complete"
    commitment.renewal_months = 1  # a stricter rule: rebuilt for every person
    db.session.commit()
    assert status() == "expired"
    assert _people(pl, commitment.id, "people") == _people(pl, commitment.id, "cells")
    incremental = stored_standings()
    standing.rebuild(db.session)
    assert stored_standings() == incremental  # what changes maintained is what a rebuild computes


def test_bulk_writes_rebuild_and_an_unbuilt_table_is_not_trusted(ctx, two_courses):
    network, specific = two_courses
    commitment = make_commitment([network], target=50)
    pl = org_id(PL)
    ids = bulk_staff(PL, 30)
    bulk_completions(ids[:20], network, NOW - MONTH)  # a bulk load, announced: names nobody
    counts = _counts(pl, commitment.id, "counts")
    assert counts == _counts(pl, commitment.id, "cells")
    assert counts[next(s for s in counts if s.value == "complete")] == 20

    db.session.execute(delete(Setting).where(Setting.key == standing.MARKER_KEY))
    db.session.execute(delete(StandingRow))  # e.g. an upgraded database, never built
    assert not standing.usable(db.session, Moment.now())
    assert _counts(pl, commitment.id, "counts") == counts  # the exact path answers
    assert standing.rebuild(db.session) >= 20
    assert standing.usable(db.session, Moment.now())
    assert _counts(pl, commitment.id, "counts") == counts


def test_a_past_date_is_answered_by_the_exact_evaluation(ctx, make_user, two_courses):
    network, specific = two_courses
    make_commitment([network], target=50)
    assert standing.usable(db.session, Moment.now())
    assert not standing.usable(db.session, Moment.end_of((NOW - 3 * MONTH).date()))


# --- Validity periods: the trend's stored form --------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> tuple:
    rule, _facts, _moment, _days = draw(scenarios())
    completions = {}
    for course_id in rule.course_ids:
        rows = []
        for _ in range(draw(st.integers(0, 3))):
            completed = draw(instants)
            expires = None
            if draw(st.booleans()):
                expires = completed + dt.timedelta(days=draw(st.integers(1, 1500)))
            rows.append((completed, expires))
        completions[course_id] = rows
    probes = draw(
        st.lists(st.integers(-2100, 1600).map(lambda d: BASE + dt.timedelta(days=d)), max_size=8)
    )
    return rule, completions, probes


@settings(max_examples=300, deadline=None)
@given(histories())
def test_validity_periods_say_what_the_rule_says_at_any_instant(history: tuple) -> None:
    rule, completions, probes = history
    periods = validity_periods(rule, completions)
    instants_seen = sorted(
        {c for rows in completions.values() for c, _e in rows}
        | {e for rows in completions.values() for _c, e in rows if e is not None}
    )
    for at in [*probes, *instants_seen]:
        facts = {c: facts_at(rows, at) for c, rows in completions.items()}
        inside = any(start <= at and (end is None or at < end) for start, end in periods)
        ever_completed = any(f.completed for f in facts.values())
        outcome, _cells = rule.evaluate(facts, Moment.now(at))
        assert inside == (ever_completed and outcome.status.is_valid)
    for (_s1, end), (start, _e2) in zip(periods, periods[1:], strict=False):
        assert end is not None and end < start  # disjoint, merged, ordered


def test_the_trend_from_stored_periods_equals_the_replayed_one(ctx, make_user, two_courses):
    network, specific = two_courses
    both = make_commitment([network, specific], target=80, renewal_months=24)
    people = staff_of_every_kind(make_user, network, specific)
    complete(people["half"], specific, NOW - 5 * MONTH)
    db.session.commit()
    pl = org_id(PL)
    moment = Moment.now()
    stored = coverage_trend(db.session, pl, [both], moment)[both.id]
    db.session.execute(delete(Setting).where(Setting.key == standing.MARKER_KEY))
    replayed = coverage_trend(db.session, pl, [both], moment)[both.id]
    assert stored == replayed
    assert len({point.valid for point in stored}) >= 2  # coverage really moves over the year
