"""A worker SIGKILLed in the middle of a staff import (issue 21): a second worker
resumes the job from its last committed slice and the import happens exactly once:
every person created once, with one membership, one audit entry and one invitation.

Real processes on a database of their own: ``lms worker`` with the queue the
installation would use (instance/jobs.sqlite3 beside SQLite, Huey's SQL storage in the
PostgreSQL database itself).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from commitments import jobs as commitment_jobs
from commitments.staff.importing import RawRow
from lms import db
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.audit import AuditEntry
from lms.jobs import Job, JobStatus
from lms.migrate import upgrade
from lms.organisations.models import Audience, Membership
from lms.organisations.services import organisation_by_code, seed_registry
from tests.conftest import make_test_app, own_database, separate_database
from tests.robustness import killing

pytestmark = pytest.mark.slow

PEOPLE = 5000
LEASE_SECONDS = 3


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:  # the process keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(killing.LMS), "worker", "--threads=1", "--no-periodic"],
            cwd=killing.ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _job(app, job_id: int) -> Job:  # noqa: ANN001
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def _wait(app, job_id: int, until, timeout: float = 180) -> Job:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while True:
        job = _job(app, job_id)
        if until(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck: {job.status} {job.done}/{job.total}")
        time.sleep(0.02)


def _wait_all_finished(app, timeout: float = 180) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            left = db.session.execute(
                select(Job.id, Job.kind, Job.status, Job.attempts, Job.error).where(
                    Job.status.not_in(["done", "failed"])
                )
            ).all()
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still unfinished: {left}")
        time.sleep(0.1)


def test_a_killed_worker_s_import_is_resumed_and_happens_exactly_once(tmp_path: Path):
    instance = tmp_path / "instance"
    with own_database(), separate_database(tmp_path) as url:
        # The queue the installation would use, shared with the worker processes.
        app = make_test_app(tmp_path, url, LMS_JOBS_URL=None)
        env = killing.cli_env(url, instance)
        env["LMS_JOBS_LEASE_SECONDS"] = str(LEASE_SECONDS)
        env.pop("LMS_JOBS_URL", None)
        with app.app_context():
            upgrade(app)
            seed_registry(db.session)
            db.session.commit()
            organisation = organisation_by_code(db.session, "CDM-PL-NTDM")
            audience = db.session.scalars(select(Audience.code)).first()
            referent = create_user(db.session, "referente.kill@rete-milano.test", "Referente Kill")
            db.session.flush()
            rows = [
                RawRow(n + 2, f"persona.{n}@kill.test", f"Persona {n}", audience)
                for n in range(PEOPLE)
            ]
            job = commitment_jobs.ask_staff_import(
                db.session, organisation.id, rows, actor=referent
            )
            db.session.commit()
            job_id, org_id = job.id, organisation.id
        log = tmp_path / "worker.log"
        first = _worker(env, log)
        try:
            started = _wait(app, job_id, lambda j: j.done >= commitment_jobs.IMPORT_SLICE)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
        killed = _job(app, job_id)
        assert started.done < PEOPLE, "the import ended before the kill: raise PEOPLE"
        assert killed.state is JobStatus.RUNNING and killed.done < PEOPLE
        time.sleep(LEASE_SECONDS + 1)  # the dead worker's lease runs out
        second = _worker(env, log)
        try:
            done = _wait(app, job_id, lambda j: j.state.finished)
            _wait_all_finished(app)  # the invitations, one job per slice
        finally:
            second.terminate()
            second.wait(timeout=30)
        assert done.state is JobStatus.DONE, (done.message, log.read_text()[-3000:])
        assert done.attempts == 2 and done.done == PEOPLE
        assert f"{PEOPLE} nuovi account invitati" in (done.message or "")
        with app.app_context():
            emails = {r.email for r in rows}
            users = db.session.scalars(select(User.id).where(User.email.in_(emails))).all()
            assert len(users) == PEOPLE
            members = db.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.organisation_id == org_id, Membership.user_id.in_(users))
            )
            assert members == PEOPLE
            added = db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "membership.added", AuditEntry.subject_id.in_(users))
            )
            assert added == PEOPLE
            asked = Counter(
                user_id
                for job in db.session.scalars(select(Job).where(Job.kind == "lms.invitations"))
                for user_id in job.params["users"]
            )
            assert sorted(asked) == sorted(users) and set(asked.values()) == {1}
        sent = Counter(
            message_from_bytes(path.read_bytes(), policy=policy.default)["To"]
            for path in (instance / "mail").glob("*.eml")
        )
        assert set(sent) == emails and set(sent.values()) == {1}  # each invited once
        app.extensions["lms"].engine.dispose()
