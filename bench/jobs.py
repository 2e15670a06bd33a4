"""The job runner's throughput: a real ``lms worker`` on the seeded database.

    .venv/bin/python -m bench --size S --only jobs

A worker subprocess is started as ``make run`` starts one (``lms worker``, the app from
the environment: ``LMS_DATABASE_URL``, ``LMS_INSTANCE_PATH``, ``LMS_SECRET_KEY`` as
bench/http.py sets them; ``LMS_JOBS_URL`` unset, so the queue is instance/jobs.sqlite3
beside SQLite and the database itself on PostgreSQL), with ``--no-periodic`` so that
only the jobs the bench asks for run. The bench then asks, as the referent's
confirmation would (``commitments.jobs.ask_staff_import``, committed in an app context),
for the import of 5,000 NEW people into the big organisation and times it from the
commit to ``done``: the job's own time (``finished_at - started_at``) and the wall time
(queue pick-up included). The invitations the import queues are jobs of their own (one
mail job each, or one per slice): how fast the worker gets through them is reported too.
Then the organisation's certificate ZIP (``certificates.jobs.ask_organisation_zip``,
current certificates, as the button asks):
time to ready, or, when ``BENCH_ZIP_SECONDS`` stops it first, its rate and the time the
whole (and 5,000 PDFs) would take.

Jobs the bench stops (a capped ZIP, invitations left) are marked failed in the throwaway
database, so that a later worker does not resume them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, log, make_app
from bench.seed import DOMAIN, FIRST_NAMES, LAST_NAMES

IMPORT_ROWS = 5_000
ZIP_TARGET_PDFS = 5_000
POLL = 0.1  # seconds between two looks at a job row
STALL = dt.timedelta(seconds=30)  # a running job silent this long is stuck (see Snapshot)
# Retries each enqueue needed (see _enqueue): a plain commit, as the views make, would
# have failed that many times.
ENQUEUE_RETRIES: list[int] = []


def zip_cap_seconds() -> float:
    return float(os.environ.get("BENCH_ZIP_SECONDS", "45"))


def mail_cap_seconds() -> float:
    return float(os.environ.get("BENCH_MAIL_SECONDS", "60"))


# --- The worker ------------------------------------------------------------------------------


def lms_command() -> list[str]:
    """The ``lms`` console script of this environment (as ``make run`` calls it)."""
    script = Path(sys.executable).with_name("lms")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from lms.console import main; main()"]


class Worker:
    """``lms worker --no-periodic`` on the seeded database, stopped (SIGTERM) on exit."""

    def __init__(
        self, database_url: str, instance: str, log_path: Path, threads: int | None = None
    ) -> None:
        from bench.http import platform_env

        self.env = platform_env(database_url, instance)  # LMS_JOBS_URL unset: the default
        self.log_path = log_path
        self.threads = threads  # None: the platform's LMS_WORKER_THREADS (2)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Worker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        threads = [] if self.threads is None else ["--threads", str(self.threads)]
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(
                [*lms_command(), "worker", "--no-periodic", *threads],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # "Worker avviato" once the queue is open
            if self.process.poll() is not None:
                raise RuntimeError(f"lms worker exited; see {self.log_path}")
            if "Worker avviato" in self.log_path.read_text(errors="replace"):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"lms worker did not start; see {self.log_path}")

    def errors(self) -> dict[str, int]:
        """Jobs the worker logged as failed, and how many of those SQLite refused with
        "database is locked" (a deferred transaction that read, then wrote after another
        thread's commit: SQLite answers at once, without waiting)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        failed = [
            line
            for line in text.splitlines()
            if '"logger": "lms.jobs.runner"' in line and '"level": "ERROR"' in line
        ]
        return {
            "jobs_failed": len(failed),
            "database_locked": sum("database is locked" in line for line in failed),
        }

    def failed_jobs(self) -> set[int]:
        """Ids of the jobs whose attempt the worker logged as failed."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return {int(m) for m in re.findall(r'"message": "job (\d+) \(', text)}

    def cpu_seconds(self) -> float:
        """User + system CPU of the worker process so far (its threads included)."""
        if self.process is None:
            return 0.0
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return 0.0

    def __exit__(self, *_exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- Asking for work, as the views do ---------------------------------------------------------


def new_staff_rows(n: int, tag: str) -> list[Any]:
    """``n`` people nobody has an account for, as a staff file's rows (header = row 1)."""
    from commitments.staff.importing import RawRow

    rows = []
    for i in range(n):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
        email = f"nuovo.{tag}.{i:05d}@{DOMAIN}"
        rows.append(RawRow(i + 2, email, f"{first} {last}", "polizia_locale"))
    return rows


def _enqueue(app: Any, email: str, ask: Any) -> tuple[Any, float, int]:
    """Run ``ask(session, actor)`` as the referent and commit, as the view does, but
    through ``commit_with_retries``: on SQLite a worker committing between the view's
    read and its INSERT makes the plain commit fail at once ("database is locked").
    Returns (ask's result, monotonic time of the commit, attempts it took)."""
    from sqlalchemy import select

    from lms import db
    from lms.accounts.models import User

    attempts = []

    def action() -> Any:
        attempts.append(1)
        referent = db.session.scalar(select(User).where(User.email == email))
        return ask(db.session, referent)

    with app.app_context():
        result = db.commit_with_retries(action)
        committed = time.monotonic()
        db.session.remove()
    return result, committed, len(attempts)


def ask_import(app: Any, report: Any, rows: list[Any]) -> tuple[int, float]:
    """Enqueue the confirmed import as the referent; (job id, monotonic time of commit)."""
    from commitments.jobs import ask_staff_import

    job_id, committed, attempts = _enqueue(
        app,
        report.referent_email,
        lambda session, actor: (
            ask_staff_import(session, report.big_organisation_id, rows, actor=actor).id
        ),
    )
    ENQUEUE_RETRIES.append(attempts - 1)
    return job_id, committed


def ask_zip(app: Any, report: Any) -> tuple[int, float]:
    """Enqueue the organisation's certificate ZIP (current ones, as the button asks)."""
    from certificates.jobs import ask_organisation_zip

    def ask(session: Any, actor: Any) -> tuple[int, str]:
        job = ask_organisation_zip(
            session, report.big_organisation_id, key=None, status="current", actor=actor
        )
        return job.id, job.status

    while True:
        (job_id, status), committed, attempts = _enqueue(app, report.referent_email, ask)
        ENQUEUE_RETRIES.append(attempts - 1)
        if status == "queued":
            return job_id, committed
        # The same person, filters and minute as an earlier archive: that one comes back
        # (a double click). Ask again in the next minute.
        time.sleep(61 - dt.datetime.now().second)


# --- Watching the rows -----------------------------------------------------------------------


@dataclass
class Snapshot:
    status: str
    done: int
    total: int | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    message: str | None
    error: str | None
    heartbeat_at: dt.datetime | None

    def stalled(self) -> bool:
        """Running, yet silent for ``STALL``: its attempt died without recording it (the
        lease keeps it "running"; only the sweeper, after the lease, would resume it)."""
        if self.status != "running" or self.heartbeat_at is None:
            return False
        beat = self.heartbeat_at
        if beat.tzinfo is None:
            beat = beat.replace(tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC) - beat > STALL


def snapshot(app: Any, job_id: int) -> Snapshot:
    from sqlalchemy import select

    from lms import db
    from lms.jobs import Job

    with app.app_context():
        row = db.session.execute(
            select(
                Job.status,
                Job.done,
                Job.total,
                Job.started_at,
                Job.finished_at,
                Job.message,
                Job.error,
                Job.heartbeat_at,
            ).where(Job.id == job_id)
        ).one()
        db.session.remove()
    return Snapshot(*row)


def wait_for(app: Any, job_id: int, committed: float, cap: float) -> dict[str, Any]:
    """Poll the job until it finishes or ``cap`` seconds after the commit have passed."""
    first_start: float | None = None
    while True:
        snap = snapshot(app, job_id)
        now = time.monotonic()
        if first_start is None and snap.started_at is not None:
            first_start = now
        if snap.status in ("done", "failed") or now - committed > cap or snap.stalled():
            break
        time.sleep(POLL)
    out: dict[str, Any] = {
        "job_id": job_id,
        "status": snap.status,
        "done": snap.done,
        "total": snap.total,
        "wall_s": round(now - committed, 2),
        "picked_up_s": round(first_start - committed, 2) if first_start else None,
    }
    if snap.status != "done":
        out["error"] = (snap.error or snap.message or "")[:300] or None
        out["stalled"] = snap.stalled()
    if snap.status == "done" and snap.started_at and snap.finished_at:
        out["job_s"] = round((snap.finished_at - snap.started_at).total_seconds(), 2)
        out["complete"] = True
    else:  # stopped by the cap: what it did in the time it had
        running = now - (first_start or committed)
        out["complete"] = False
        out["job_s"] = None
        out["running_s"] = round(running, 2)
    return out


def mail_progress(app: Any, after_id: int) -> tuple[int, int]:
    """(done, all) of the jobs the import queued after job ``after_id`` for its
    invitations: one mail job each (``lms.mail``), or one job per slice when the import
    batches them; the bench's own import and ZIP jobs are not counted."""
    from sqlalchemy import func, select

    from certificates.jobs import ORGANISATION_ZIP
    from commitments.jobs import STAFF_IMPORT
    from lms import db
    from lms.jobs import Job

    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Job.status, func.count())
                .where(Job.id > after_id, Job.kind.not_in([STAFF_IMPORT, ORGANISATION_ZIP]))
                .group_by(Job.status)
            ).all()
        )
        db.session.remove()
    done = int(counts.get("done", 0))
    return done, sum(int(n) for n in counts.values())


def wait_for_mail(app: Any, after_id: int, cap: float) -> dict[str, Any]:
    started = time.monotonic()
    done, total = mail_progress(app, after_id)
    first = done
    while done < total and time.monotonic() - started < cap:
        time.sleep(0.5)
        done, total = mail_progress(app, after_id)
    seconds = time.monotonic() - started
    rate = (done - first) / seconds if seconds else 0.0
    return {
        "queued": total,
        "delivered": done,
        "seconds": round(seconds, 1),
        "per_second": round(rate, 1),
        "complete": done >= total,
        "estimated_full_s": round(total / rate, 0) if rate and done < total else None,
    }


def abandon_unfinished(app: Any) -> int:
    """Mark every unfinished job failed and empty the queue: a worker must neither resume
    the bench's leftovers nor spend its time picking up their messages."""
    from sqlalchemy import update

    from lms import db
    from lms.jobs import Job

    with app.app_context():
        count = db.session.execute(
            update(Job)
            .where(Job.status.in_(["queued", "running", "retrying"]))
            .values(status="failed", error="stopped by the bench", lease=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        db.session.remove()
    app.extensions["lms"].jobs.huey.flush()
    return int(count or 0)


def describe_zip(data: dict[str, Any]) -> dict[str, Any]:
    """Rate and projections for a ZIP job, finished or stopped by the cap."""
    total = data.get("total") or 0
    if data["complete"]:
        seconds = data["job_s"] or 0.0
        data["pdfs_per_second"] = round(total / seconds, 1) if seconds else None
    else:
        seconds = data["running_s"]
        data["pdfs_per_second"] = round(data["done"] / seconds, 1) if seconds else None
        rate = data["pdfs_per_second"]
        data["estimated_full_s"] = round(total / rate, 0) if rate else None
    rate = data["pdfs_per_second"]
    data["estimated_5000_s"] = round(ZIP_TARGET_PDFS / rate, 0) if rate else None
    return data


# --- The part --------------------------------------------------------------------------------


@contextlib.contextmanager
def running_worker(
    report: Any, label: str, threads: int | None = None
) -> Iterator[tuple[Any, Worker]]:
    """The bench's app (same database, instance and queue) and a worker; on the way out,
    the worker stopped and what it left unfinished marked failed."""
    app = make_app(Path(report.instance), report.database_url, LMS_JOBS_URL=None)
    logs = Path(report.instance) / "logs"
    try:
        with Worker(
            report.database_url, report.instance, logs / f"worker{label}.log", threads
        ) as worker:
            yield app, worker
    finally:
        abandoned = abandon_unfinished(app)
        if abandoned:
            log(f"jobs{label}: {abandoned} unfinished jobs marked failed")
        app.extensions["lms"].engine.dispose()


def import_cap_seconds() -> float:
    return float(os.environ.get("BENCH_IMPORT_SECONDS", "120"))


def timed_import(app: Any, report: Any, worker: Worker, tag: str, label: str) -> dict[str, Any]:
    """Ask for the import of 5,000 new people; wait for it (at most the cap)."""
    cpu = worker.cpu_seconds()
    job_id, committed = ask_import(app, report, new_staff_rows(IMPORT_ROWS, tag))
    imported = wait_for(app, job_id, committed, cap=import_cap_seconds())
    imported["worker_cpu_s"] = round(worker.cpu_seconds() - cpu, 2)
    imported["threads"] = worker.threads or "default"
    imported["worker_errors"] = worker.errors()
    if imported["complete"]:
        imported["rows_per_second"] = round(IMPORT_ROWS / imported["job_s"], 0)
        log(
            f"jobs{label}: import of {IMPORT_ROWS:,} new people: job {imported['job_s']} s, "
            f"wall {imported['wall_s']} s (picked up after {imported['picked_up_s']} s)"
        )
    else:
        log(
            f"jobs{label}: import NOT done after {imported['wall_s']} s "
            f"{'(stalled)' if imported.get('stalled') else ''}: {imported['status']} "
            f"{imported['done']}/{imported['total']}; worker errors {imported['worker_errors']}"
        )
    return imported


def timed_mail(app: Any, worker: Worker, after_id: int, label: str) -> dict[str, Any]:
    """The invitations the import queued (one mail job each), delivered by the worker."""
    cpu = worker.cpu_seconds()
    mail = wait_for_mail(app, after_id, mail_cap_seconds())
    used = worker.cpu_seconds() - cpu
    mail["worker_cpu_ms_per_job"] = (
        round(1000 * used / mail["delivered"], 1) if mail["delivered"] else None
    )
    mail["worker_errors"] = worker.errors()
    mail["threads"] = worker.threads or "default"
    log(
        f"jobs{label}: invitations {mail['delivered']:,} of {mail['queued']:,} "
        f"delivered in {mail['seconds']} s ({mail['per_second']}/s)"
    )
    return mail


def run(report: Any, label: str = "") -> dict[str, Any]:
    """Import of 5,000 new people, its invitations, then the certificate ZIP, one by one.

    The worker runs as deployed (``LMS_WORKER_THREADS``, 2). When the import does not
    finish (on SQLite its slices can lose their write to the invitations the other
    thread delivers), it is measured again with a one-thread worker, reported apart.
    """
    results: dict[str, Any] = {"rows": IMPORT_ROWS}
    ENQUEUE_RETRIES.clear()
    with running_worker(report, label) as (app, worker):
        imported = results["import"] = timed_import(app, report, worker, "jobs", label)
        if imported["complete"]:
            results["mail"] = timed_mail(app, worker, imported["job_id"], label)
    if not results["import"]["complete"]:
        single = f"{label}-1thread"
        with running_worker(report, single, threads=1) as (app, worker):
            imported = timed_import(app, report, worker, "jobs1", single)
            results["import_one_thread"] = imported
            if imported["complete"]:
                results["mail"] = timed_mail(app, worker, imported["job_id"], single)

    with running_worker(report, f"{label}-zip") as (app, worker):
        cpu = worker.cpu_seconds()
        zip_id, committed = ask_zip(app, report)
        zipped = describe_zip(wait_for(app, zip_id, committed, cap=zip_cap_seconds()))
        zipped["worker_cpu_s"] = round(worker.cpu_seconds() - cpu, 2)
        zipped["cap_s"] = zip_cap_seconds()
        results["zip"] = zipped
        how = (
            f"ready in {zipped['job_s']} s (wall {zipped['wall_s']} s)"
            if zipped["complete"]
            else f"{zipped['done']:,} PDFs when stopped after {zipped['running_s']} s, "
            f"whole ≈ {zipped['estimated_full_s']} s"
        )
        log(
            f"jobs{label}: ZIP of {zipped['total'] or 0:,} certificates {how}; "
            f"{zipped['pdfs_per_second']} PDF/s (5,000 ≈ {zipped['estimated_5000_s']} s)"
        )
    results["enqueue_retries"] = sum(ENQUEUE_RETRIES)
    return results
