"""Status derivation, table-tested: every status, edge dates, renewal and expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from commitments.reporting.trend import month_ends
from commitments.rules.status import (
    Cell,
    CourseFacts,
    Moment,
    Status,
    commitment_outcome,
    course_cell,
    end_of_day,
)
from lms.dates import add_months

UTC = dt.UTC
AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
DONE = dt.datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def done(expiry: dt.datetime | None, *, at: dt.datetime = DONE, **extra) -> CourseFacts:
    return CourseFacts(
        last_completed_at=at, latest_expiry=expiry, never_expires=expiry is None, **extra
    )


COURSE_CASES = [
    # (label, facts, renewal_months, expected status, expected valid_until)
    ("nothing at all", CourseFacts(), None, Status.NOT_ENROLLED, None),
    ("enrolled, nothing opened", CourseFacts(enrolled=True), None, Status.NOT_STARTED, None),
    (
        "enrolled, a module started",
        CourseFacts(enrolled=True, last_activity_at=AT - DAY),
        None,
        Status.IN_PROGRESS,
        None,
    ),
    (
        "activity but unenrolled since",
        CourseFacts(enrolled=False, last_activity_at=AT - DAY),
        None,
        Status.NOT_ENROLLED,
        None,
    ),
    ("valid, 91 days left", done(AT + 91 * DAY), None, Status.COMPLETE, AT + 91 * DAY),
    ("valid, exactly 90 days left", done(AT + 90 * DAY), None, Status.EXPIRING, AT + 90 * DAY),
    (
        "valid, 90 days and a second left",
        done(AT + 90 * DAY + SECOND),
        None,
        Status.COMPLETE,
        AT + 90 * DAY + SECOND,
    ),
    ("valid, one second left", done(AT + SECOND), None, Status.EXPIRING, AT + SECOND),
    ("expires at this very instant", done(AT), None, Status.EXPIRED, AT),
    ("expired yesterday", done(AT - DAY), None, Status.EXPIRED, AT - DAY),
    ("course without expiry", done(None), None, Status.COMPLETE, None),
    (
        "commitment caps validity: 36 months from completion",
        done(dt.datetime(2030, 1, 1, tzinfo=UTC), at=dt.datetime(2023, 6, 1, 12, 0, tzinfo=UTC)),
        36,
        Status.EXPIRED,
        dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
    ),
    (
        "commitment cap on a course without expiry",
        done(None, at=dt.datetime(2023, 8, 1, tzinfo=UTC)),
        36,
        Status.EXPIRING,
        dt.datetime(2026, 8, 1, tzinfo=UTC),
    ),
    (
        "course expiry earlier than the cap wins",
        done(AT + 10 * DAY, at=dt.datetime(2025, 1, 1, tzinfo=UTC)),
        36,
        Status.EXPIRING,
        AT + 10 * DAY,
    ),
    (
        "an older completion without expiry keeps it valid",
        CourseFacts(last_completed_at=DONE, latest_expiry=AT - DAY, never_expires=True),
        None,
        Status.COMPLETE,
        None,
    ),
    (
        "renewal under way does not hide an expiry",
        done(AT - DAY, enrolled=True, last_activity_at=AT - SECOND),
        None,
        Status.EXPIRED,
        AT - DAY,
    ),
]


@pytest.mark.parametrize(
    ("facts", "renewal", "status", "until"),
    [case[1:] for case in COURSE_CASES],
    ids=[case[0] for case in COURSE_CASES],
)
def test_course_cell(facts, renewal, status, until):
    cell = course_cell(facts, AT, renewal_months=renewal, expiring_days=90)
    assert cell.status is status
    assert cell.valid_until == until


def test_expiring_window_is_configurable():
    assert course_cell(done(AT + 20 * DAY), AT, expiring_days=30).status is Status.EXPIRING
    assert course_cell(done(AT + 20 * DAY), AT, expiring_days=10).status is Status.COMPLETE


def test_add_months_clamps_to_month_end():
    assert add_months(dt.datetime(2024, 1, 31, tzinfo=UTC), 1).date() == dt.date(2024, 2, 29)
    assert add_months(dt.datetime(2023, 11, 22, tzinfo=UTC), 36).date() == dt.date(2026, 11, 22)


def valid(until: dt.datetime | None) -> Cell:
    status = Status.EXPIRING if until and until - AT <= 90 * DAY else Status.COMPLETE
    return Cell(status, DONE, until, True)


EXPIRED = Cell(Status.EXPIRED, DONE, AT - DAY, True)
STARTED = Cell(Status.IN_PROGRESS, enrolled=True)
ENROLLED = Cell(Status.NOT_STARTED, enrolled=True)
NONE = Cell(Status.NOT_ENROLLED)
FAR = AT + 400 * DAY
NEAR = AT + 30 * DAY
DEADLINE = dt.date(2026, 11, 22)
BEFORE = Moment(dt.date(2026, 6, 1), AT)
ON_DEADLINE = Moment(DEADLINE, dt.datetime(2026, 11, 22, 20, 0, tzinfo=UTC))
AFTER = Moment(DEADLINE + DAY, dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC))

COMMITMENT_CASES = [
    # (label, required, optional, choose, moment, status, valid_until)
    ("all valid", [valid(FAR), valid(FAR + DAY)], [], 0, BEFORE, Status.COMPLETE, FAR),
    ("one expiring", [valid(FAR), valid(NEAR)], [], 0, BEFORE, Status.EXPIRING, NEAR),
    ("no expiry anywhere", [valid(None), valid(None)], [], 0, BEFORE, Status.COMPLETE, None),
    ("one of two done", [valid(FAR), NONE], [], 0, BEFORE, Status.IN_PROGRESS, None),
    ("one started", [STARTED, NONE], [], 0, BEFORE, Status.IN_PROGRESS, None),
    ("enrolled, not started", [ENROLLED, NONE], [], 0, BEFORE, Status.NOT_STARTED, None),
    ("nothing", [NONE, NONE], [], 0, BEFORE, Status.NOT_ENROLLED, None),
    ("expired before deadline", [valid(FAR), EXPIRED], [], 0, BEFORE, Status.EXPIRED, None),
    ("deadline day is not late", [NONE, NONE], [], 0, ON_DEADLINE, Status.NOT_ENROLLED, None),
    ("day after deadline", [NONE, NONE], [], 0, AFTER, Status.OVERDUE, None),
    ("expired after deadline", [valid(FAR), EXPIRED], [], 0, AFTER, Status.OVERDUE, None),
    ("complete after deadline", [valid(FAR), valid(FAR)], [], 0, AFTER, Status.COMPLETE, FAR),
    (
        "one of a set",
        [valid(FAR)],
        [NONE, valid(FAR + 10 * DAY), STARTED],
        1,
        BEFORE,
        Status.COMPLETE,
        FAR,
    ),
    (
        "two of a set: the second-best validity counts",
        [valid(None)],
        [valid(FAR), valid(NEAR), valid(FAR + DAY)],
        2,
        BEFORE,
        Status.COMPLETE,
        FAR,
    ),
    ("set not yet chosen", [valid(FAR)], [NONE, STARTED], 1, BEFORE, Status.IN_PROGRESS, None),
    ("set choice expired", [valid(FAR)], [EXPIRED, NONE], 1, BEFORE, Status.EXPIRED, None),
    ("only a set", [], [ENROLLED, NONE], 1, BEFORE, Status.NOT_STARTED, None),
]


@pytest.mark.parametrize(
    ("required", "optional", "choose", "moment", "status", "until"),
    [case[1:] for case in COMMITMENT_CASES],
    ids=[case[0] for case in COMMITMENT_CASES],
)
def test_commitment_outcome(required, optional, choose, moment, status, until):
    outcome = commitment_outcome(required, optional, choose, moment, DEADLINE, expiring_days=90)
    assert outcome.status is status
    assert outcome.valid_until == until


def test_every_status_is_reachable():
    reached = {case[5] for case in COMMITMENT_CASES} | {case[3] for case in COURSE_CASES}
    assert reached == set(Status)


def test_end_of_a_chosen_day_is_local_midnight():
    summer = end_of_day(dt.date(2026, 6, 1))
    assert summer == dt.datetime(2026, 6, 1, 21, 59, 59, 999999, tzinfo=UTC)
    winter = Moment.end_of(dt.date(2026, 1, 15))
    assert winter.at == dt.datetime(2026, 1, 15, 22, 59, 59, 999999, tzinfo=UTC)
    assert winter.on == dt.date(2026, 1, 15)
    # Just after midnight in Milan is already the next day.
    assert Moment.now(dt.datetime(2026, 6, 1, 22, 30, tzinfo=UTC)).on == dt.date(2026, 6, 2)


def test_month_ends_for_the_trend():
    ends = month_ends(dt.date(2026, 3, 15))
    assert ends[0] == dt.date(2025, 3, 31) and ends[-2] == dt.date(2026, 2, 28)
    assert ends[-1] == dt.date(2026, 3, 15) and len(ends) == 13
    assert month_ends(dt.date(2024, 2, 29))[-1] == dt.date(2024, 2, 29)
    assert len(month_ends(dt.date(2024, 2, 29))) == 12
