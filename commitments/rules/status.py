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

A commitment may also ask for a number of **hours** and/or **credits**
(:class:`Activity`: completed courses' certified hours and accredited credits,
attended sessions' hours). An activity counts while it is valid, as a course's
completion does (its own expiry, capped by ``renewal_months``); the amount is met
while the valid activities add up to it, and it joins the courses' requirements in
every rule above: complete needs it met, expired needs the amount reached ignoring
validity, and any activity at all makes the commitment "in progress".
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
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
class Activity:
    """Training that counts toward hours and credits: one course completion (its
    certified hours, its credits when the accreditation covered the day) or one
    attended session (its hours, in proportion for a partial attendance)."""

    at: dt.datetime
    expires_at: dt.datetime | None = None  # the completion's own expiry; sessions: None
    hours: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)


AMOUNT_KINDS = ("hours", "credits")
_FOREVER = dt.datetime.max.replace(tzinfo=dt.UTC)


def activity_until(activity: Activity, renewal_months: int | None) -> dt.datetime | None:
    """End of an activity's validity, as :func:`valid_until` for a completion."""
    ends = [activity.expires_at] if activity.expires_at is not None else []
    if renewal_months:
        ends.append(add_months(activity.at, renewal_months))
    return min(ends) if ends else None


def amount_at(
    activities: Sequence[Activity], kind: str, at: dt.datetime, renewal_months: int | None
) -> Decimal:
    """Hours or credits of the activities valid at ``at``."""
    total = Decimal(0)
    for activity in activities:
        until = activity_until(activity, renewal_months)
        if activity.at <= at and (until is None or until > at):
            total += getattr(activity, kind)
    return total


@dataclass(frozen=True)
class AmountPart:
    """One amount requirement (hours or credits) of one person.

    ``reached``: the activities, ignoring validity, add up to it; ``until``: when the
    valid ones stop adding up to it (None: never), meaningful only when reached.
    """

    kind: str
    required: Decimal
    counted: Decimal  # valid at the moment of evaluation
    reached: bool
    until: dt.datetime | None
    started: bool

    @property
    def met(self) -> bool:
        return self.counted >= self.required


def amount_part(
    activities: Sequence[Activity],
    kind: str,
    required: Decimal,
    renewal_months: int | None,
    at: dt.datetime | None = None,
) -> AmountPart:
    """Greedy by validity: the activities valid at a later instant are those ending
    after it, so the amount holds until the end of the one that completes the sum when
    taken from the longest-valid down."""
    items = sorted(
        (
            (activity_until(a, renewal_months) or _FOREVER, getattr(a, kind))
            for a in activities
            if getattr(a, kind) > 0
        ),
        key=lambda item: item[0],
        reverse=True,
    )
    total, reached, until = Decimal(0), False, None
    for ends, amount in items:
        total += amount
        if total >= required:
            reached, until = True, (None if ends == _FOREVER else ends)
            break
    counted = amount_at(activities, kind, at, renewal_months) if at is not None else total
    return AmountPart(kind, required, counted, reached, until, bool(items))


@dataclass(frozen=True)
class Outcome:
    status: Status
    valid_until: dt.datetime | None = None
    amounts: tuple[AmountPart, ...] = ()


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
    amounts: Sequence[AmountPart] = (),
) -> Outcome:
    cells = [*required, *optional]
    valid_optional = [c for c in optional if c.status.is_valid]
    parts = tuple(amounts)
    if (
        all(c.status.is_valid for c in required)
        and len(valid_optional) >= choose_count
        and all(p.met for p in parts)
    ):
        untils = [c.valid_until for c in required] + [p.until for p in parts]
        if choose_count:
            untils.append(_latest_of([c.valid_until for c in valid_optional], choose_count))
        finite = [u for u in untils if u is not None]
        until = min(finite) if finite else None
        window = dt.timedelta(days=expiring_days)
        return Outcome(_valid_status(until, moment.at, window), until, parts)
    if moment.on > deadline:
        return Outcome(Status.OVERDUE, amounts=parts)
    completed_optional = sum(1 for c in optional if c.completed)
    if (
        all(c.completed for c in required)
        and completed_optional >= choose_count
        and all(p.reached for p in parts)
    ):
        return Outcome(Status.EXPIRED, amounts=parts)
    if any(c.completed or c.status is Status.IN_PROGRESS for c in cells) or any(
        p.started for p in parts
    ):
        return Outcome(Status.IN_PROGRESS, amounts=parts)
    if any(c.status is Status.NOT_STARTED for c in cells):
        return Outcome(Status.NOT_STARTED, amounts=parts)
    return Outcome(Status.NOT_ENROLLED, amounts=parts)


@dataclass(frozen=True)
class Rule:
    """A commitment's requirement as plain values (no ORM access in hot loops)."""

    required: tuple[int, ...]
    optional: tuple[int, ...]
    choose_count: int
    renewal_months: int | None
    deadline: dt.date
    hours: Decimal | None = None
    credits: Decimal | None = None

    @property
    def course_ids(self) -> tuple[int, ...]:
        return self.required + self.optional

    @property
    def amounts(self) -> tuple[tuple[str, Decimal], ...]:
        """The amounts required: ("hours", 8), ("credits", 10)."""
        return tuple(
            (kind, value)
            for kind, value in (("hours", self.hours), ("credits", self.credits))
            if value
        )

    def amount_parts(
        self, activities: Sequence[Activity], at: dt.datetime | None = None
    ) -> tuple[AmountPart, ...]:
        return tuple(
            amount_part(activities, kind, required, self.renewal_months, at)
            for kind, required in self.amounts
        )

    def evaluate(
        self,
        facts: dict[int, CourseFacts],
        moment: Moment,
        expiring_days: int = DEFAULT_EXPIRING_DAYS,
        activities: Sequence[Activity] = (),
    ) -> tuple[Outcome, dict[int, Cell]]:
        """Outcome and per-course cells, from the person's facts keyed by course id and
        their activities up to the moment (for hours and credits)."""
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
            amounts=self.amount_parts([a for a in activities if a.at <= moment.at], moment.at),
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


def standing_of(
    rule: Rule, facts: dict[int, CourseFacts], activities: Sequence[Activity] = ()
) -> Standing:
    required = [facts.get(c, NO_FACTS) for c in rule.required]
    optional = [facts.get(c, NO_FACTS) for c in rule.optional]
    completed_optional = [f for f in optional if f.completed]
    parts = rule.amount_parts(activities)
    satisfied = (
        all(f.completed for f in required)
        and len(completed_optional) >= rule.choose_count
        and all(p.reached for p in parts)
    )
    until = None
    if satisfied:
        untils = [valid_until(f, rule.renewal_months) for f in required]
        untils += [p.until for p in parts]
        if rule.choose_count:
            optional_untils = [valid_until(f, rule.renewal_months) for f in completed_optional]
            untils.append(_latest_of(optional_untils, rule.choose_count))
        finite = [u for u in untils if u is not None]
        until = min(finite) if finite else None
    cells = [*required, *optional]
    if any(f.completed or (f.enrolled and f.last_activity_at) for f in cells) or any(
        p.started for p in parts
    ):
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


def valid_at(
    rule: Rule,
    facts: Mapping[int, CourseFacts],
    at: dt.datetime,
    activities: Sequence[Activity] = (),
) -> bool:
    """Whether the rule is met at ``at``: :func:`commitment_outcome` says complete or expiring."""
    for kind, required in rule.amounts:
        if amount_at(activities, kind, at, rule.renewal_months) < required:
            return False

    def valid(course_id: int) -> bool:
        course = facts.get(course_id, NO_FACTS)
        if not course.completed:
            return False
        until = valid_until(course, rule.renewal_months)
        return until is None or until > at

    if not all(valid(c) for c in rule.required):
        return False
    return sum(1 for c in rule.optional if valid(c)) >= rule.choose_count


def validity_periods(
    rule: Rule,
    completions: Mapping[int, Sequence[Completion]],
    activities: Sequence[Activity] = (),
) -> list[Period]:
    """When the rule was met, from the completion history (and, for hours and credits,
    the activities) alone (no completion: never).

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
    if rule.amounts:
        for activity in activities:
            for instant in (activity.at, activity_until(activity, rule.renewal_months)):
                if instant is not None and instant not in instants:
                    insort(instants, instant)
    periods: list[Period] = []
    start = None
    for instant in instants:
        facts = {c: facts_at(completions.get(c, ()), instant) for c in rule.course_ids}
        if valid_at(rule, facts, instant, activities):
            start = start or instant
        elif start is not None:
            periods.append((start, instant))
            start = None
    if start is not None:
        periods.append((start, None))
    return periods
