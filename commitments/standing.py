"""Stored standings: each person's commitment outcome, kept current transactionally.

Deriving every status on every page view costs seconds for an organisation of
5,000 (three aggregates over ~50,000 person-course pairs, then Python); Moodle's
completion-progress block timed out for exactly this reason. A status depends on
the moment only through a few instants (see :class:`commitments.rules.status.Standing`),
so we store those per (commitment, person) and derive statuses at read time, in
SQL for counts (:func:`status_expression`) and in Python for the staff matrix.

Consistency: courses' ``learning_changed`` signal names whose enrolments, module
progress or completions were written, and a listener on the app's session class notes
which commitments' rules a flush changed; before the transaction commits — or before a
reader in the same transaction asks — their standings are recomputed from the database
with the same query path as the exact evaluation (``rules.facts.gather_facts``). On
PostgreSQL, advisory transaction locks serialise recomputations of the same person, and
a rebuild against per-person recomputations, so a concurrent transaction cannot write a
standing from a stale snapshot. A database whose standings were never built (an upgraded
one with history) says so in ``lms_setting``; readers then use the exact evaluation
until ``lms commitments rebuild-standings`` (run by ``lms init-db``) builds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from flask import Flask
from sqlalchemy import and_, case, delete, event, func, insert, inspect, or_, select, text
from sqlalchemy.orm import Session

from commitments.models import (
    Commitment,
    CommitmentCourse,
    CourseState,
    StandingRow,
    ValidityPeriod,
)
from commitments.reporting import names
from commitments.rules.facts import facts_by_user, gather_activities, gather_facts
from commitments.rules.status import (
    Activity,
    Completion,
    CourseFacts,
    Moment,
    Progress,
    Rule,
    standing_of,
    valid_until,
    validity_periods,
)
from courses.api import CourseCompletion, LearningChanges, learning_changed
from lms import clock, db
from lms.accounts.models import User
from lms.settings import Setting

MARKER_KEY = "commitments.standing"
MARKER_VALUE = "built"
PENDING_KEY = "commitments_standing_pending"
CHUNK = 2_000
#: A moment this close to now (or later) may be answered from stored standings.
FRESHNESS = dt.timedelta(seconds=5)

RULE_ATTRIBUTES = ("choose_count", "renewal_months", "required_hours", "required_credits")
_LOCK_NAMESPACE_GLOBAL = 741_001
_LOCK_NAMESPACE_USER = 741_002


# --- Reading --------------------------------------------------------------------------


def is_built(session: Session) -> bool:
    found = session.get(Setting, MARKER_KEY)
    return found is not None and found.value == MARKER_VALUE


def usable(session: Session, moment: Moment) -> bool:
    """Whether stored standings answer for ``moment`` (now or later, and built)."""
    if moment.at < clock.now() - FRESHNESS:
        return False  # a past date: facts after it must not count
    if not is_built(session):
        return False
    ensure_current(session)
    return True


def status_expression(moment: Moment, deadline: dt.date, expiring_days: int) -> Any:
    """The SQL twin of :func:`commitments.rules.status.status_at`, on a joined standing."""
    row = StandingRow
    valid = and_(
        row.satisfied.is_(True), or_(row.valid_until.is_(None), row.valid_until > moment.at)
    )
    expiring_from = moment.at + dt.timedelta(days=expiring_days)
    whens: list[tuple[Any, str]] = [
        (and_(valid, row.valid_until.is_not(None), row.valid_until <= expiring_from), "expiring"),
        (valid, "complete"),
    ]
    if moment.on > deadline:
        return case(*whens, else_="overdue")
    whens.append((row.satisfied.is_(True), "expired"))
    return case(*whens, else_=func.coalesce(row.progress, "not_enrolled"))


# --- Writing --------------------------------------------------------------------------


def _rules(session: Session, commitment_ids: Collection[int] | None = None) -> list[tuple]:
    """Every (or these) commitments' rules, in one statement."""
    stmt = (
        select(
            Commitment.id,
            Commitment.choose_count,
            Commitment.renewal_months,
            Commitment.deadline,
            Commitment.required_hours,
            Commitment.required_credits,
            CommitmentCourse.course_id,
            CommitmentCourse.required,
        )
        .outerjoin(CommitmentCourse, CommitmentCourse.commitment_id == Commitment.id)
        .order_by(Commitment.id, CommitmentCourse.position)
    )
    if commitment_ids is not None:
        stmt = stmt.where(Commitment.id.in_(commitment_ids))
    definitions: dict[int, tuple] = {}
    courses: dict[int, list[tuple[int, bool]]] = {}
    for (
        commitment_id,
        choose,
        renewal,
        deadline,
        hours,
        credits,
        course_id,
        required,
    ) in session.execute(stmt):
        definitions[commitment_id] = (choose, renewal, deadline, hours, credits)
        if course_id is not None:
            courses.setdefault(commitment_id, []).append((course_id, required))
    rules = []
    for commitment_id, (
        choose_count,
        renewal_months,
        deadline,
        hours,
        credits,
    ) in definitions.items():
        listed = courses.get(commitment_id, [])
        rule = Rule(
            required=tuple(c for c, required in listed if required),
            optional=tuple(c for c, required in listed if not required),
            choose_count=choose_count,
            renewal_months=renewal_months,
            deadline=deadline,
            hours=hours,
            credits=credits,
        )
        rules.append((commitment_id, rule))
    return rules


def _rows(
    rules: list[tuple[int, Rule]],
    by_user: dict[int, dict[int, CourseFacts]],
    activities: dict[int, list[Activity]],
) -> Iterable[dict[str, Any]]:
    for user_id in by_user.keys() | activities.keys():
        facts, done = by_user.get(user_id, {}), activities.get(user_id, [])
        for commitment_id, rule in rules:
            if not any(course_id in facts for course_id in rule.course_ids) and not (
                rule.amounts and done
            ):
                continue  # no facts: no row (read as "not enrolled")
            standing = standing_of(rule, facts, done)
            yield {
                "commitment_id": commitment_id,
                "user_id": user_id,
                "satisfied": standing.satisfied,
                "valid_until": standing.valid_until,
                "progress": standing.progress.value,
            }


def _states(
    rules: list[tuple[int, Rule]], by_user: dict[int, dict[int, CourseFacts]]
) -> Iterable[dict[str, Any]]:
    """Per-course states (``course_cell`` less the moment): completed with the validity's
    end, else enrolled and started or not; nothing else is stored (not enrolled)."""
    for user_id, facts in by_user.items():
        for commitment_id, rule in rules:
            for course_id in rule.course_ids:
                course = facts.get(course_id)
                if course is None:
                    continue
                if not (course.completed or course.enrolled):
                    continue
                started = course.completed or course.last_activity_at is not None
                yield {
                    "commitment_id": commitment_id,
                    "user_id": user_id,
                    "course_id": course_id,
                    "completed_at": course.last_completed_at,
                    "valid_until": valid_until(course, rule.renewal_months)
                    if course.completed
                    else None,
                    "enrolled": course.enrolled,
                    "progress": "in_progress" if started else "not_started",
                }


def _periods(
    rules: list[tuple[int, Rule]],
    history: dict[int, dict[int, list[Completion]]],
    activities: dict[int, list[Activity]],
) -> Iterable[dict[str, Any]]:
    for user_id in history.keys() | activities.keys():
        completions, done = history.get(user_id, {}), activities.get(user_id, [])
        for commitment_id, rule in rules:
            for start, end in validity_periods(rule, completions, done):
                yield {
                    "commitment_id": commitment_id,
                    "user_id": user_id,
                    "valid_from": start,
                    "valid_until": end,
                }


def _history(session: Session, users: Any, course_ids: set[int]) -> dict:
    """Every completion of these people in these courses, by person and course."""
    history: dict[int, dict[int, list[Completion]]] = {}
    stmt = select(
        CourseCompletion.user_id,
        CourseCompletion.course_id,
        CourseCompletion.completed_at,
        CourseCompletion.expires_at,
    ).where(
        CourseCompletion.user_id.in_(users),
        CourseCompletion.course_id.in_(course_ids),
        CourseCompletion.completed_at <= clock.now(),
    )
    for user_id, course_id, completed_at, expires_at in session.execute(stmt):
        history.setdefault(user_id, {}).setdefault(course_id, []).append((completed_at, expires_at))
    return history


def _write(
    session: Session, rules: list[tuple[int, Rule]], users: Any, course_ids: set[int]
) -> int:
    activities: dict[int, list[Activity]] = {}
    if any(rule.amounts for _id, rule in rules):
        activities = gather_activities(session, users, clock.now())
    by_user = _facts_by_user(session, users, course_ids) if course_ids else {}
    written = _insert(session, StandingRow, _rows(rules, by_user, activities))
    _insert(session, CourseState, _states(rules, by_user))
    history = _history(session, users, course_ids) if course_ids else {}
    _insert(session, ValidityPeriod, _periods(rules, history, activities))
    return written


def _facts_by_user(session: Session, users: Any, course_ids: set[int]) -> dict:
    return facts_by_user(gather_facts(session, users, course_ids, clock.now()))


def _insert(session: Session, model: type, rows: Iterable[dict[str, Any]]) -> int:
    batch, written = [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            session.execute(insert(model), batch)
            written, batch = written + len(batch), []
    if batch:
        session.execute(insert(model), batch)
        written += len(batch)
    return written


def _lock(session: Session, namespace: int, key: int, *, shared: bool = False) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite serialises writers: a stale snapshot cannot commit
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(
        text(f"SELECT {function}(:namespace, :key)"), {"namespace": namespace, "key": key}
    )


def _lock_users(session: Session, user_ids: list[int]) -> None:
    """Every person's lock in one statement, in ascending order (as one by one did, so two
    transactions never wait for each other crosswise); statements do not grow with people."""
    if not user_ids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:namespace, k) FROM unnest(CAST(:keys AS integer[])) AS k"
        ),
        {"namespace": _LOCK_NAMESPACE_USER, "keys": sorted(user_ids)},
    )


def refresh_users(
    session: Session,
    changes: Mapping[int, Collection[int]] | Collection[int],
    *,
    activity_only: Collection[int] = (),
) -> int:
    """Recompute these people's standings from the database; rows written.

    ``changes`` maps each person to the courses whose learning rows changed (a bare
    collection of people: every course). Only commitments with one of those courses
    are recomputed. For people in ``activity_only`` (only module activity was
    added) nothing can change where their standing already says "in progress":
    activity never removes facts, and requirements and validity depend on
    completions alone.
    """
    if not isinstance(changes, Mapping):
        changes = {user_id: None for user_id in changes}
    rules = _rules(session)
    relevant = {
        user_id: {
            commitment_id
            for commitment_id, rule in rules
            if courses is None or rule.amounts or set(rule.course_ids) & set(courses)
        }
        for user_id, courses in changes.items()
    }
    relevant = {user_id: ids for user_id, ids in relevant.items() if ids}
    settled = set(activity_only) & set(relevant)
    if settled:
        stored = session.execute(
            select(StandingRow.user_id, StandingRow.commitment_id, StandingRow.progress).where(
                StandingRow.user_id.in_(settled)
            )
        )
        in_progress: dict[int, set[int]] = {}
        for user_id, commitment_id, progress in stored:
            if progress == Progress.IN_PROGRESS.value:
                in_progress.setdefault(user_id, set()).add(commitment_id)
        for user_id in settled:
            if relevant[user_id] <= in_progress.get(user_id, set()):
                del relevant[user_id]
    if not relevant:
        return 0
    ids = sorted(relevant)
    commitment_ids = set().union(*relevant.values())
    _lock(session, _LOCK_NAMESPACE_GLOBAL, 0, shared=True)
    _lock_users(session, ids)
    rules = [(c, rule) for c, rule in rules if c in commitment_ids]
    for model in (StandingRow, ValidityPeriod, CourseState):
        session.execute(
            delete(model).where(model.user_id.in_(ids), model.commitment_id.in_(commitment_ids))
        )
    course_ids = {c for _id, rule in rules for c in rule.course_ids}
    return _write(session, rules, select(User.id).where(User.id.in_(ids)), course_ids)


def rebuild(session: Session, commitment_ids: Collection[int] | None = None) -> int:
    """Recompute the standings of these commitments (None: all, and mark them built)."""
    _lock(session, _LOCK_NAMESPACE_GLOBAL, 0)
    rules = _rules(session, commitment_ids)
    for model in (StandingRow, ValidityPeriod, CourseState):
        stale = delete(model)
        if commitment_ids is not None:
            stale = stale.where(model.commitment_id.in_(commitment_ids))
        session.execute(stale)
    course_ids = {c for _id, rule in rules for c in rule.course_ids}
    written = 0
    if rules and (course_ids or any(rule.amounts for _id, rule in rules)):
        top = session.scalar(select(func.max(User.id))) or 0
        for low in range(0, top + 1, CHUNK):
            users = select(User.id).where(User.id >= low, User.id < low + CHUNK)
            written += _write(session, rules, users, course_ids)
    if commitment_ids is None:
        names.sync(session)
        found = session.get(Setting, MARKER_KEY)
        if found is None:
            session.add(Setting(key=MARKER_KEY, value=MARKER_VALUE))
        else:
            found.value, found.updated_at = MARKER_VALUE, clock.now()
        session.flush()
    return written


# --- Keeping them current -------------------------------------------------------------


def _pending(session: Session) -> dict[str, Any]:
    """users: person -> courses touched; beyond_activity: people with more than new module
    activity (see ``refresh_users``); commitments: rules changed; all: rebuild."""
    return session.info.setdefault(
        PENDING_KEY, {"users": {}, "beyond_activity": set(), "commitments": set(), "all": False}
    )


def note_learning(_app: Any, *, session: Session, changes: LearningChanges) -> None:
    """courses' ``learning_changed``: remember whose standings the change may have changed."""
    pending = _pending(session)
    if changes.everyone:
        pending["all"] = True
    for user_id, course_ids in changes.courses.items():
        pending["users"].setdefault(user_id, set()).update(course_ids)
        if user_id not in changes.activity_only:
            pending["beyond_activity"].add(user_id)


def _changed(instance: Any, attributes: Iterable[str]) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def note_flush(session: Session, _context: Any) -> None:
    """after_flush: remember which commitments' rules the flushed changes changed."""
    if not (session.new or session.dirty or session.deleted):
        return
    noted = _pending(session)["commitments"]
    for instance in session.new:
        if isinstance(instance, CommitmentCourse):
            noted.add(instance.commitment_id)
        elif isinstance(instance, Commitment):
            noted.add(instance.id)
    for instance in session.deleted:
        if isinstance(instance, CommitmentCourse):
            noted.add(instance.commitment_id)
    for instance in session.dirty:
        if isinstance(instance, CommitmentCourse) and _changed(
            instance, ("course_id", "required", "commitment_id")
        ):
            noted.add(instance.commitment_id)
        elif isinstance(instance, Commitment) and _changed(instance, RULE_ATTRIBUTES):
            noted.add(instance.id)


_RULE_TABLES = {Commitment.__table__, CommitmentCourse.__table__}


def note_bulk(state: Any) -> None:
    """do_orm_execute: a bulk write on the rules names no commitment: rebuild everything."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if getattr(state.statement, "table", None) in _RULE_TABLES:
        _pending(state.session)["all"] = True


def ensure_current(session: Session) -> None:
    """Write the standings this transaction's changes call for (before commit or a read)."""
    names.write_pending(session)  # flushes first: commit's own flush comes after this
    pending = session.info.get(PENDING_KEY)
    if not pending or not (pending["users"] or pending["commitments"] or pending["all"]):
        return
    session.flush()
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    if pending["all"]:
        rebuild(session)
        return
    if pending["commitments"]:
        rebuild(session, pending["commitments"])
    if pending["users"]:
        activity_only = set(pending["users"]) - pending["beyond_activity"]
        refresh_users(session, pending["users"], activity_only=activity_only)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_KEY, None)


def install(app: Flask) -> None:
    """Keep one app's standings current: its courses' ``learning_changed`` and, on its own
    session class (``LMSState.session_class``), the commitments' rule changes, writing
    before commit and forgetting on rollback. Called by the plugin's ``init_app``."""
    learning_changed.connect(note_learning, sender=app, weak=False)
    session_class = app.extensions["lms"].session_class
    if event.contains(session_class, "after_flush", note_flush):
        return
    event.listen(session_class, "after_flush", note_flush)
    event.listen(session_class, "do_orm_execute", note_bulk)
    event.listen(session_class, "before_commit", ensure_current)
    event.listen(session_class, "after_rollback", _forget)
    names.install(db.session.session_factory.class_)  # every app's sessions: see names
