"""The one clock: settable by tests, and the only place that reads the wall clock."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from lms import audit, clock, db

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("lms", "courses", "quizzes", "certificates", "commitments", "live_sessions", "surveys")
# Calls that read the wall clock, by the attribute chain they end with.
WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("func", "now"),
}


def wall_clock_reads(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else None
            )
            if (owner_name, node.func.attr) in WALL_CLOCK_READS:
                lines.append(node.lineno)
    return lines


def test_the_finder_sees_each_form_of_reading_the_wall_clock() -> None:
    sample = ast.parse(
        "import datetime as dt, time\n"
        "dt.datetime.now(dt.UTC)\n"
        "dt.date.today()\n"
        "time.time()\n"
        "datetime.utcnow()\n"
        "time.monotonic()\n"  # a duration, not a date: allowed
    )
    assert wall_clock_reads(sample) == [2, 3, 4, 5]


def test_only_the_clock_reads_the_wall_clock() -> None:
    offenders = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "lms" / "clock.py":
                continue
            for line in wall_clock_reads(ast.parse(path.read_text(encoding="utf-8"))):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [], "read lms.clock.now() instead: " + ", ".join(offenders)


def test_a_fixed_clock_reaches_model_defaults_and_audit_entries(app, make_user) -> None:
    instant = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    with clock.frozen(instant), app.app_context():
        user = make_user()
        entry = audit.record(db.session, "test.clock", subject_id=user.id)
        db.session.flush()
        db.session.refresh(user)
        db.session.refresh(entry)
        assert entry.created_at == instant
        assert user.created_at == instant
    assert clock.now() != instant  # given back to the wall clock


def test_today_is_the_date_in_milan() -> None:
    # 23:30 UTC on 31 December is already New Year's Day in Milan.
    with clock.frozen(dt.datetime(2030, 12, 31, 23, 30, tzinfo=dt.UTC)):
        assert clock.today() == dt.date(2031, 1, 1)


def test_advance_moves_a_fixed_clock_and_refuses_a_running_one() -> None:
    with clock.frozen(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)):
        assert clock.advance(dt.timedelta(days=2)) == dt.datetime(2030, 1, 3, tzinfo=dt.UTC)
    with pytest.raises(RuntimeError):
        clock.advance(dt.timedelta(days=1))
    with pytest.raises(ValueError):
        clock.set_now(dt.datetime(2030, 1, 1))  # naive


def test_a_service_that_takes_now_stamps_its_audit_entries_with_it() -> None:
    """The time bomb of issue 16: retention took ``now`` but its audit entries the wall
    clock, so a test on a fixed date failed once the wall clock passed it."""
    offenders = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                arguments = function.args.args + function.args.kwonlyargs
                if "now" not in {a.arg for a in arguments}:
                    continue
                for call in ast.walk(function):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "record"
                        and isinstance(call.func.value, ast.Name)
                        and call.func.value.id == "audit"
                        and not any(k.arg == "at" for k in call.keywords)
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert offenders == [], "pass at=now to audit.record: " + ", ".join(offenders)
