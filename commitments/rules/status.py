"""The status of a person against a course and a commitment, derived, never stored.

Everything here is pure: facts gathered by ``commitments.reporting.coverage`` (one
set-based query path) go in, statuses come out. The rules, in order:

* a course is **valid** at a moment when its latest completion is not yet past
  its validity: the completion's own ``expires_at`` (from the course's renewal
  period), capped by the commitment's ``renewal_months`` when it sets one;
  validity runs from completion up to, excluding, that instant;
* a commitment is **complete** when every required course is valid and at least
  ``choose_count`` optional courses are valid; it is valid until the earliest
  of the instants that keep it so; **expiring** when that instant is within the
  expiring window (default 90 days, inclusive);
* otherwise it is **overdue** once the deadline date has passed (the deadline
  day itself is not overdue), whatever else is true;
* otherwise **expired** if the completions, ignoring validity, would satisfy it;
* otherwise **in progress** if any of its courses has a completion or a
  started module in an active enrolment; **not started** if the person is
  enrolled in any of its courses; else **not enrolled**.
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lms import clock
from lms.dates import add_months

LOCAL_TZ = ZoneInfo("Europe/Rome")
DEFAULT_EXPIRING_DAYS = 90


class Status(enum.StrEnum):
    NOT_ENROLLED = "not_enrolled"
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    OVERDUE = "overdue"

    @property
    def is_valid(self) -> bool:
        return self in (Status.COMPLETE, Status.EXPIRING)


#: Display and sorting order: what needs attention first.
STATUS_ORDER: tuple[Status, ...] = (
    Status.OVERDUE,
    Status.EXPIRED,
    Status.NOT_ENROLLED,
    Status.NOT_STARTED,
    Status.IN_PROGRESS,
    Status.EXPIRING,
    Status.COMPLETE,
)
SEVERITY = {status: index for index, status in enumerate(STATUS_ORDER)}


@dataclass(frozen=True)
class Moment:
    """When statuses are evaluated: a local date and the instant ending it.

    For "now", ``at`` is the current instant; for a chosen date, the last
    instant of that day in Milan, so that the day's completions count.
    """

    on: dt.date
    at: dt.datetime

    @classmethod
    def now(cls, now: dt.datetime | None = None) -> Moment:
        now = now or clock.now()
        return cls(now.astimezone(LOCAL_TZ).date(), now)

    @classmethod
    def end_of(cls, day: dt.date) -> Moment:
        return cls(day, end_of_day(day))


def end_of_day(day: dt.date) -> dt.datetime:
    following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL_TZ)
    return (following - dt.timedelta(microseconds=1)).astimezone(dt.UTC)


@dataclass(frozen=True)
class CourseFacts:
    """What the database says about one person and one course, up to the moment."""

    enrolled: bool = False
    last_activity_at: dt.datetime | None = None
    last_completed_at: dt.datetime | None = None
    latest_expiry: dt.datetime | None = None  # the latest expires_at among completions
    never_expires: bool = False  # some completion carries no expiry

    @property
    def completed(self) -> bool:
        return self.last_completed_at is not None


NO_FACTS = CourseFacts()


@dataclass(frozen=True)
class Cell:
    """One person and one course: status, and validity when completed."""

    status: Status
    completed_at: dt.datetime | None = None
    valid_until: dt.datetime | None = None  # None when completed: valid with no end
    enrolled: bool = False

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


def valid_until(facts: CourseFacts, renewal_months: int | None) -> dt.datetime | None:
    """End of validity of the latest completion; None means it never ends."""
    assert facts.last_completed_at is not None
    ends = []
    if not facts.never_expires and facts.latest_expiry is not None:
        ends.append(facts.latest_expiry)
    if renewal_months:
        ends.append(add_months(facts.last_completed_at, renewal_months))
    return min(ends) if ends else None


def _valid_status(until: dt.datetime | None, at: dt.datetime, window: dt.timedelta) -> Status:
    if until is not None and until - at <= window:
        return Status.EXPIRING
    return Status.COMPLETE


def course_cell(
    facts: CourseFacts,
    at: dt.datetime,
    *,
    renewal_months: int | None = None,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
) -> Cell:
    window = dt.timedelta(days=expiring_days)
    if facts.completed:
        until = valid_until(facts, renewal_months)
        status = Status.EXPIRED if until is not None and until <= at else None
        return Cell(
            status or _valid_status(until, at, window),
            facts.last_completed_at,
            until,
            facts.enrolled,
        )
    if facts.enrolled:
        status = Status.IN_PROGRESS if facts.last_activity_at else Status.NOT_STARTED
        return Cell(status, enrolled=True)
    return Cell(Status.NOT_ENROLLED)


@dataclass(frozen=True)
class Outcome:
    status: Status
    valid_until: dt.datetime | None = None


def _latest_of(untils: Sequence[dt.datetime | None], rank: int) -> dt.datetime | None:
    """The ``rank``-th longest validity (1-based); None sorts as "never ends"."""
    forever = dt.datetime.max.replace(tzinfo=dt.UTC)
    ordered = sorted((u or forever for u in untils), reverse=True)
    chosen = ordered[rank - 1]
    return None if chosen == forever else chosen


def commitment_outcome(
    required: Sequence[Cell],
    optional: Sequence[Cell],
    choose_count: int,
    moment: Moment,
    deadline: dt.date,
    *,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
) -> Outcome:
    cells = [*required, *optional]
    valid_optional = [c for c in optional if c.status.is_valid]
    if all(c.status.is_valid for c in required) and len(valid_optional) >= choose_count:
        untils = [c.valid_until for c in required]
        if choose_count:
            untils.append(_latest_of([c.valid_until for c in valid_optional], choose_count))
        finite = [u for u in untils if u is not None]
        until = min(finite) if finite else None
        window = dt.timedelta(days=expiring_days)
        return Outcome(_valid_status(until, moment.at, window), until)
    if moment.on > deadline:
        return Outcome(Status.OVERDUE)
    completed_optional = sum(1 for c in optional if c.completed)
    if all(c.completed for c in required) and completed_optional >= choose_count:
        return Outcome(Status.EXPIRED)
    if any(c.completed or c.status is Status.IN_PROGRESS for c in cells):
        return Outcome(Status.IN_PROGRESS)
    if any(c.status is Status.NOT_STARTED for c in cells):
        return Outcome(Status.NOT_STARTED)
    return Outcome(Status.NOT_ENROLLED)


@dataclass(frozen=True)
class Rule:
    """A commitment's requirement as plain values (no ORM access in hot loops)."""

    required: tuple[int, ...]
    optional: tuple[int, ...]
    choose_count: int
    renewal_months: int | None
    deadline: dt.date

    @property
    def course_ids(self) -> tuple[int, ...]:
        return self.required + self.optional

    def evaluate(
        self,
        facts: dict[int, CourseFacts],
        moment: Moment,
        expiring_days: int = DEFAULT_EXPIRING_DAYS,
    ) -> tuple[Outcome, dict[int, Cell]]:
        """Outcome and per-course cells, from the person's facts keyed by course id."""
        cells = {
            course_id: course_cell(
                facts.get(course_id, NO_FACTS),
                moment.at,
                renewal_months=self.renewal_months,
                expiring_days=expiring_days,
            )
            for course_id in self.course_ids
        }
        outcome = commitment_outcome(
            [cells[c] for c in self.required],
            [cells[c] for c in self.optional],
            self.choose_count,
            moment,
            self.deadline,
            expiring_days=expiring_days,
        )
        return outcome, cells


# --- Standing: what a person's facts say about a commitment, at any later moment ----------


class Progress(enum.StrEnum):
    """The status a commitment falls back to when it is neither valid, expired nor overdue."""

    NOT_ENROLLED = "not_enrolled"
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class Standing:
    """The time-independent part of a commitment outcome, stored per person.

    Facts only accumulate in the past, so for any moment at or after the facts,
    ``status_at`` gives exactly what :meth:`Rule.evaluate` gives: the commitment is
    valid while ``satisfied`` and before ``valid_until`` (None: for ever).
    """

    satisfied: bool
    valid_until: dt.datetime | None
    progress: Progress


NO_STANDING = Standing(False, None, Progress.NOT_ENROLLED)


def standing_of(rule: Rule, facts: dict[int, CourseFacts]) -> Standing:
    required = [facts.get(c, NO_FACTS) for c in rule.required]
    optional = [facts.get(c, NO_FACTS) for c in rule.optional]
    completed_optional = [f for f in optional if f.completed]
    satisfied = all(f.completed for f in required) and len(completed_optional) >= rule.choose_count
    until = None
    if satisfied:
        untils = [valid_until(f, rule.renewal_months) for f in required]
        if rule.choose_count:
            optional_untils = [valid_until(f, rule.renewal_months) for f in completed_optional]
            untils.append(_latest_of(optional_untils, rule.choose_count))
        finite = [u for u in untils if u is not None]
        until = min(finite) if finite else None
    cells = [*required, *optional]
    if any(f.completed or (f.enrolled and f.last_activity_at) for f in cells):
        progress = Progress.IN_PROGRESS
    elif any(f.enrolled for f in cells):
        progress = Progress.NOT_STARTED
    else:
        progress = Progress.NOT_ENROLLED
    return Standing(satisfied, until, progress)


def status_at(
    standing: Standing,
    moment: Moment,
    deadline: dt.date,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
) -> Outcome:
    """The commitment's outcome at ``moment`` (not before the facts it was made of)."""
    status, until = stored_status(
        standing.satisfied,
        standing.valid_until,
        standing.progress.value,
        moment,
        deadline,
        dt.timedelta(days=expiring_days),
    )
    return Outcome(status, until)


def stored_status(
    satisfied: bool | None,
    until: dt.datetime | None,
    progress: str | None,
    moment: Moment,
    deadline: dt.date,
    window: dt.timedelta,
) -> tuple[Status, dt.datetime | None]:
    """:func:`status_at` on a stored row's plain values (None: no row, no facts), for
    thousands of rows per page without building objects."""
    if satisfied and (until is None or until > moment.at):
        if until is not None and until - moment.at <= window:
            return Status.EXPIRING, until
        return Status.COMPLETE, until
    if moment.on > deadline:
        return Status.OVERDUE, None
    if satisfied:
        return Status.EXPIRED, None
    return _PROGRESS_STATUS[progress or Progress.NOT_ENROLLED.value], None


_PROGRESS_STATUS = {p.value: Status(p.value) for p in Progress}


# --- Validity over time: the periods in which a person's completions satisfied a rule ----

#: One completion: (completed_at, expires_at or None).
Completion = tuple[dt.datetime, dt.datetime | None]
Period = tuple[dt.datetime, dt.datetime | None]  # [valid_from, valid_until); None: open


def facts_at(completions: Sequence[Completion], at: dt.datetime) -> CourseFacts:
    """A course's completion facts as they stood at ``at`` (enrolment left out)."""
    done = [(c, e) for c, e in completions if c <= at]
    if not done:
        return NO_FACTS
    expiries = [e for _c, e in done if e is not None]
    return CourseFacts(
        last_completed_at=max(c for c, _e in done),
        latest_expiry=max(expiries) if expiries else None,
        never_expires=len(expiries) < len(done),
    )


def valid_at(rule: Rule, facts: Mapping[int, CourseFacts], at: dt.datetime) -> bool:
    """Whether the rule is met at ``at``: :func:`commitment_outcome` says complete or expiring."""

    def valid(course_id: int) -> bool:
        course = facts.get(course_id, NO_FACTS)
        if not course.completed:
            return False
        until = valid_until(course, rule.renewal_months)
        return until is None or until > at

    if not all(valid(c) for c in rule.required):
        return False
    return sum(1 for c in rule.optional if valid(c)) >= rule.choose_count


def validity_periods(rule: Rule, completions: Mapping[int, Sequence[Completion]]) -> list[Period]:
    """When the rule was met, from the completion history alone (no completion: never).

    Validity only changes at a completion or at the end of one's validity, so the
    rule is checked at those instants and holds until the next one.
    """
    instants: list[dt.datetime] = []
    for course_id in rule.course_ids:
        for completed, expires in completions.get(course_id, ()):
            for instant in (
                completed,
                expires,
                add_months(completed, rule.renewal_months) if rule.renewal_months else None,
            ):
                if instant is not None and instant not in instants:
                    insort(instants, instant)
    periods: list[Period] = []
    start = None
    for instant in instants:
        facts = {c: facts_at(completions.get(c, ()), instant) for c in rule.course_ids}
        if valid_at(rule, facts, instant):
            start = start or instant
        elif start is not None:
            periods.append((start, instant))
            start = None
    if start is not None:
        periods.append((start, None))
    return periods
