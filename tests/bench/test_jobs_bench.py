"""The job-runner bench's pieces that need no worker: the rows it imports and the table.

No timing here: the bench itself (``python -m bench --only jobs,contention``) measures.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bench import report
from bench.jobs import describe_zip, new_staff_rows
from commitments.staff.importing import Action, plan_import
from lms import db
from lms.organisations.services import organisation_by_code
from tests.conftest import service_context


def test_the_import_rows_are_new_people_the_import_accepts(app: Flask) -> None:
    rows = new_staff_rows(120, "test")
    assert [r.number for r in rows[:2]] == [2, 3]  # the header is row 1
    assert len({r.email for r in rows}) == 120
    with service_context(app):
        plan = plan_import(db.session, organisation_by_code(db.session, "CDM-PL-NTDM"), rows)
    assert plan.ok, plan.errors[:3]
    assert {row.action for row in plan.rows} == {Action.NEW}


def test_a_capped_zip_is_projected_from_its_rate() -> None:
    data = describe_zip({"complete": False, "done": 400, "total": 8000, "running_s": 10.0})
    assert data["pdfs_per_second"] == 40.0
    assert data["estimated_full_s"] == 200
    assert data["estimated_5000_s"] == 125
    done = describe_zip({"complete": True, "done": 300, "total": 300, "job_s": 3.0})
    assert done["pdfs_per_second"] == 100.0 and done["estimated_5000_s"] == 50


def _targets(results: dict[str, Any]) -> dict[str, str]:
    """Measure -> verdict, for the rows that state a target."""
    return {row[0]: row[-1] for row in report.rows(results) if row[-2]}


def test_every_target_is_printed_even_when_not_measured() -> None:
    verdicts = _targets({"size": "S"})
    assert len(verdicts) >= 12
    jobs = [v for name, v in verdicts.items() if name.startswith(("Job runner", "Referent's home"))]
    assert jobs == ["not measured"] * 2
    assert all(v.startswith("not measured") for v in verdicts.values())


def test_job_targets_met_and_missed() -> None:
    imported = {
        "complete": True,
        "job_s": 6.0,
        "wall_s": 6.4,
        "rows_per_second": 833,
        "worker_cpu_s": 5.0,
    }
    stalled = {
        "complete": False,
        "status": "running",
        "done": 500,
        "total": 5000,
        "wall_s": 120,
        "job_s": None,
        "worker_errors": {"jobs_failed": 3, "database_locked": 3},
    }
    home = {
        "window_s": 20,
        "alone": {"p50_ms": 40, "p95_ms": 60},
        "busy": {
            "p50_ms": 60,
            "p95_ms": 100,
            "max_ms": 150,
            "jobs_at_end": {},
            "work_done_in_window": 40,
        },
        "ratio": 1.67,
        "met": True,
    }
    results = {
        "jobs": {"sqlite": {"import": stalled}, "postgresql": {"import": imported}},
        "contention": {"sqlite": home, "postgresql": {**home, "ratio": 3.0, "met": False}},
    }
    verdicts = _targets(results)
    assert verdicts["Job runner: staff import of 5,000 new people (lms worker as deployed)"] == (
        "**missed**"
    )
    home_row = next(v for k, v in verdicts.items() if k.startswith("Referent's home"))
    assert home_row == "**missed**"
    results["jobs"]["sqlite"]["import"] = imported
    results["contention"]["postgresql"] = home
    verdicts = _targets(results)
    assert verdicts["Job runner: staff import of 5,000 new people (lms worker as deployed)"] == (
        "met"
    )
    text = report.markdown({"size": "S", **results})
    assert "not done 120 s after the commit: running at 500/5,000" not in text
    assert "job 6.0 s, wall 6.4 s" in text
