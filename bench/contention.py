"""No request makes another person wait: a home page while the worker is busy.

    .venv/bin/python -m bench --size S --only contention

gunicorn serves the platform as bench/http.py serves it (``gunicorn.conf.py``), and one
``lms worker`` runs beside it on the same database and queue (bench/jobs.py). One
client, signed in as the big organisation's referent, asks for the home page (``/``:
the referent's widgets over the 5,000 staff), one request after the other, for
``BENCH_CONTENTION_SECONDS`` (default 20): first with the worker idle, then right after
a ZIP of the organisation's certificates and an import of 5,000 new people (and the
5,000 invitations it queues) were committed together. The target: the p95 while the
jobs run under twice the p95 alone, and under 2 s. What the jobs had done when the
window closed is recorded with it (a window in which they had finished would prove
nothing).
"""

from __future__ import annotations

import os
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.common import log
from bench.http import Browser, Server, platform_env, prepare_heartbeats
from bench.jobs import (
    ENQUEUE_RETRIES,
    IMPORT_ROWS,
    Worker,
    ask_import,
    ask_zip,
    mail_progress,
    new_staff_rows,
    running_worker,
    snapshot,
)

HOME = "/"


def window_seconds() -> float:
    return float(os.environ.get("BENCH_CONTENTION_SECONDS", "20"))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _summary(latencies: list[float], bad: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "bad_status": bad,
    }


def home_latencies(
    browser: Browser, seconds: float, heartbeat: tuple[Browser, str, list[Any]] | None = None
) -> dict[str, Any]:
    """One client, one request after the other, for ``seconds``: latency percentiles of
    the home page; with ``heartbeat``, a learner's module heartbeat (a write, at most
    one a second credited) after each home page, timed apart."""
    latencies: list[float] = []
    beats: list[float] = []
    bad = bad_beats = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status, _headers, _body = browser.request("GET", HOME)
        latencies.append(1000 * (time.perf_counter() - started))
        bad += status != 200
        if heartbeat is not None:
            learner, path, form = heartbeat
            started = time.perf_counter()
            status, _headers, _body = learner.request("POST", path, form)
            beats.append(1000 * (time.perf_counter() - started))
            bad_beats += status != 200
    out = _summary(latencies, bad)
    if heartbeat is not None:
        out["heartbeat"] = _summary(beats, bad_beats)
    out["load_average"] = round(os.getloadavg()[0], 2)
    return out


def heartbeat_of(app: Any, report: Any, port: int) -> tuple[Browser, str, list[Any]]:
    """A learner signed in on a module page, and its heartbeat request (bench/http.py)."""
    from courses.catalogue import published_version
    from lms import db

    slug = report.course_slugs[0]
    with app.app_context():
        modules = [m.slug for m in published_version(db.session, slug).modules]
        db.session.remove()
    module_path = f"/courses/{slug}/modules/{modules[len(modules) // 2]}"
    learner = Browser(port)
    learner.login(report.learner_emails[0], report.password)
    _method, path, _cookie, body = prepare_heartbeats(module_path, [learner]).lines[0]
    return learner, path, urllib.parse.parse_qsl(body)


def _jobs_state(app: Any, zip_id: int, import_id: int) -> dict[str, Any]:
    zipped, imported = snapshot(app, zip_id), snapshot(app, import_id)
    delivered, queued = mail_progress(app, import_id)
    return {
        "zip": {"status": zipped.status, "done": zipped.done, "total": zipped.total},
        "import": {"status": imported.status, "done": imported.done, "total": imported.total},
        "invitations": {"delivered": delivered, "queued": queued},
    }


def _worked(before: dict[str, Any], after: dict[str, Any]) -> int:
    """PDFs, rows and invitations the worker got through in the window."""
    return sum(
        (after[k].get("done", after[k].get("delivered", 0)) or 0)
        - (before[k].get("done", before[k].get("delivered", 0)) or 0)
        for k in ("zip", "import", "invitations")
    )


def busy_window(
    app: Any,
    worker: Worker,
    report: Any,
    referent: Browser,
    seconds: float,
    tag: str,
    label: str,
    heartbeat: tuple[Browser, str, list[Any]] | None = None,
) -> dict[str, Any]:
    """Ask for a ZIP and an import together, then measure the home page for ``seconds``."""
    zip_id, _at = ask_zip(app, report)
    import_id, _at = ask_import(app, report, new_staff_rows(IMPORT_ROWS, tag))
    before = _jobs_state(app, zip_id, import_id)
    busy = home_latencies(referent, seconds, heartbeat)
    after = busy["jobs_at_end"] = _jobs_state(app, zip_id, import_id)
    busy["work_done_in_window"] = _worked(before, after)
    # A job whose attempt failed in the window stopped working (it waits for a retry, or
    # its lease): the window no longer shows the page beside the jobs.
    busy["jobs_failed_in_window"] = sorted(worker.failed_jobs() & {zip_id, import_id})
    zipped, imported, mail = after["zip"], after["import"], after["invitations"]
    log(
        f"contention{label}: home page while a ZIP and an import run: p50 "
        f"{busy['p50_ms']} / p95 {busy['p95_ms']} ms ({busy['requests']} requests); "
        f"at the end: ZIP {zipped['status']} {zipped['done']}/{zipped['total']}, import "
        f"{imported['status']} {imported['done']}/{imported['total']}, invitations "
        f"{mail['delivered']}/{mail['queued']}"
    )
    return busy


def run(report: Any, label: str = "") -> dict[str, Any]:
    """The home page alone, then while the jobs run (the worker as deployed). When a job
    failed in the window or none got anything done (on SQLite, two jobs started together
    can lose a write to each other and wait for a retry or their lease), again with a
    one-thread worker, which runs them one after the other: reported apart."""
    seconds = window_seconds()
    logs = Path(report.instance) / "logs"
    env = platform_env(report.database_url, report.instance)
    results: dict[str, Any] = {"window_s": seconds, "page": HOME}
    tag = f"contention{label.replace('-', '')}"
    ENQUEUE_RETRIES.clear()
    with Server("wsgi:app", env, logs / f"contention{label}.log") as server:
        referent = Browser(server.port)
        referent.login(report.referent_email, report.password)
        status, _headers, _body = referent.request("GET", HOME)
        if status != 200:
            raise RuntimeError(f"GET {HOME} as the referent: status {status}")
        for _ in range(5):  # warm both workers' caches
            referent.request("GET", HOME)

        beat = None
        with running_worker(report, f"-contention{label}") as (app, worker):
            beat = heartbeat_of(app, report, server.port)
            results["alone"] = alone = home_latencies(referent, seconds, beat)
            log(
                f"contention{label}: home page alone: p50 {alone['p50_ms']} / p95 "
                f"{alone['p95_ms']} ms ({alone['requests']} requests)"
            )
            results["busy"] = busy = busy_window(
                app, worker, report, referent, seconds, tag, label, beat
            )
            busy["worker_errors"] = worker.errors()
        if not _valid(busy):
            single = f"{label}-1thread"
            with running_worker(report, f"-contention{single}", threads=1) as (app, worker):
                one = busy_window(app, worker, report, referent, seconds, tag + "1", single, beat)
                one["worker_errors"] = worker.errors()
                results["busy_one_thread"] = one
    results["enqueue_retries"] = sum(ENQUEUE_RETRIES)
    results["ratio"] = round(busy["p95_ms"] / alone["p95_ms"], 2) if alone["p95_ms"] else None
    results["met"] = _met(alone, busy)
    if "busy_one_thread" in results:
        one = results["busy_one_thread"]
        one["ratio"] = round(one["p95_ms"] / alone["p95_ms"], 2) if alone["p95_ms"] else None
        results["met_one_thread"] = _met(alone, one)
    return results


def _valid(busy: dict[str, Any]) -> bool:
    """The jobs worked through the window: some progress, and no attempt failed."""
    return bool(busy["work_done_in_window"]) and not busy.get("jobs_failed_in_window")


def _met(alone: dict[str, Any], busy: dict[str, Any]) -> bool | None:
    """The target, or None when the jobs did no work in the window (nothing shown)."""
    if not _valid(busy) or not alone["p95_ms"]:
        return None
    return busy["p95_ms"] < 2 * alone["p95_ms"] and busy["p95_ms"] < 2000
