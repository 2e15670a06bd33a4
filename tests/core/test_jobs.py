"""The job runner (lms/jobs): dispatched after commit, claimed once, retried with
backoff, resumed from its checkpoint when its worker is presumed dead, visible to the
person who asked and to admins. A real Huey queue (in memory) worked off by the test
as a consumer would; tests/robustness/test_jobs_kill.py kills a real worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lms import clock, db, jobs, mail
from lms.accounts.models import Role
from lms.accounts.services import create_user
from lms.errors import ServiceError
from lms.i18n import lazy_gettext as _l
from lms.jobs import JOB_KINDS, Job, JobContext, JobKind, JobStatus
from lms.migrate import upgrade
from lms.plugins import registry
from lms.settings import get_setting, set_setting
from tests.conftest import PASSWORD, make_test_app, own_database, separate_database

CALLS: list[str] = []


def count_to(ctx: JobContext) -> str:
    """Counts to params["n"] in steps of 10, remembering where it got; fails once at
    params["fail_at"] on its first attempt (a crash between two checkpoints)."""
    n = ctx.params["n"]
    start = ctx.checkpoint.get("at", 0)
    for at in range(start, n, 10):
        if at == ctx.params.get("fail_at") and ctx.attempt == 1:
            raise RuntimeError("worker crashed")
        step = min(at + 10, n)
        for i in range(at, step):
            set_setting(
                ctx.session, f"test.jobs.item.{i}", str(i), by_id=None
            )  # the work, once per item
        CALLS.append(f"{at}-{step}")
        ctx.progress(step, n, checkpoint={"at": step})
    return f"contati {n}"


def refuse(ctx: JobContext) -> str:
    raise ServiceError("Il file non è più valido.")


def always_broken(ctx: JobContext) -> str:
    raise RuntimeError("boom")


@pytest.fixture
def queued_app(tmp_path: Path) -> Iterator[Flask]:
    with own_database(), separate_database(tmp_path) as url:
        app = make_test_app(tmp_path, url, LMS_JOBS_URL="memory://")
        registry(JOB_KINDS, app).add("test.count", JobKind("test.count", count_to, _l("Conta")))
        registry(JOB_KINDS, app).add("test.refuse", JobKind("test.refuse", refuse, _l("Rifiuta")))
        registry(JOB_KINDS, app).add(
            "test.broken", JobKind("test.broken", always_broken, _l("Rotta"), max_attempts=2)
        )
        with app.app_context():
            upgrade(app)
            db.session.commit()
        CALLS.clear()
        yield app
        app.extensions["lms"].engine.dispose()


def work_off(app: Flask, *, retries_due: bool = True) -> int:
    """Run what a consumer would: queued tasks, then (optionally) retries whose delay
    has not passed yet, until nothing is left. Returns how many tasks ran."""
    huey = jobs.runner(app).huey
    ran = 0
    while True:
        task = huey.dequeue()
        if task is None and retries_due:
            later = huey.read_schedule(
                dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
            )
            for scheduled in later:
                huey.enqueue(scheduled)
            task = huey.dequeue()
        if task is None:
            return ran
        huey.execute(task)
        ran += 1


def ask(app: Flask, kind: str, **params: object) -> int:
    with app.app_context():
        job = jobs.enqueue(db.session, kind, params)
        db.session.commit()
        return job.id


def job_row(app: Flask, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def test_a_job_is_dispatched_when_its_transaction_commits_and_not_before(queued_app: Flask):
    with queued_app.app_context():
        job = jobs.enqueue(db.session, "test.count", {"n": 25})
        db.session.flush()
        assert jobs.runner(queued_app).huey.pending_count() == 0
        db.session.commit()
        assert jobs.runner(queued_app).huey.pending_count() == 1
    work_off(queued_app)
    done = job_row(queued_app, job.id)
    assert done.state is JobStatus.DONE
    assert (done.done, done.total, done.percent) == (25, 25, 100)
    assert done.message == "contati 25"
    assert CALLS == ["0-10", "10-20", "20-25"]


def test_a_rolled_back_job_never_runs(queued_app: Flask):
    with queued_app.app_context():
        jobs.enqueue(db.session, "test.count", {"n": 5})
        db.session.rollback()
        db.session.commit()
        assert jobs.runner(queued_app).huey.pending_count() == 0
        assert db.session.scalar(select(Job.id)) is None


def test_a_crash_is_retried_and_resumes_from_the_checkpoint(queued_app: Flask):
    job_id = ask(queued_app, "test.count", n=40, fail_at=20)
    work_off(queued_app, retries_due=False)
    failed_once = job_row(queued_app, job_id)
    assert failed_once.state is JobStatus.RETRYING
    assert failed_once.done == 20 and "RuntimeError" in (failed_once.error or "")
    assert f"attività {job_id}" in (failed_once.message or "")
    work_off(queued_app)
    done = job_row(queued_app, job_id)
    assert done.state is JobStatus.DONE and done.attempts == 2
    # items 0-19 were done once, by the first attempt; the second started at 20
    assert CALLS == ["0-10", "10-20", "20-30", "30-40"]
    with queued_app.app_context():
        assert [get_setting(db.session, f"test.jobs.item.{i}", "") for i in (0, 19, 39)] == [
            "0",
            "19",
            "39",
        ]


def test_a_refusal_fails_at_once_with_its_message(queued_app: Flask):
    job_id = ask(queued_app, "test.refuse")
    work_off(queued_app)
    failed = job_row(queued_app, job_id)
    assert failed.state is JobStatus.FAILED and failed.attempts == 1
    assert failed.message == "Il file non è più valido."


def test_an_error_is_retried_with_backoff_then_reported(queued_app: Flask):
    job_id = ask(queued_app, "test.broken")
    huey = jobs.runner(queued_app).huey
    work_off(queued_app, retries_due=False)
    retrying = job_row(queued_app, job_id)
    assert retrying.state is JobStatus.RETRYING
    assert huey.scheduled_count() == 1  # Huey holds the next attempt until its delay passes
    assert retrying.heartbeat_at is not None and retrying.heartbeat_at > clock.now()
    work_off(queued_app)
    failed = job_row(queued_app, job_id)
    assert failed.state is JobStatus.FAILED and failed.attempts == 2
    assert failed.finished_at is not None and "boom" in (failed.error or "")


def test_a_second_dispatch_of_a_running_or_done_job_does_nothing(queued_app: Flask):
    job_id = ask(queued_app, "test.count", n=10)
    runner = jobs.runner(queued_app)
    runner.dispatch(job_id)  # the same id twice on the queue
    work_off(queued_app)
    assert CALLS == ["0-10"]
    assert job_row(queued_app, job_id).attempts == 1


def test_a_worker_presumed_dead_loses_its_lease_and_the_sweeper_resumes_the_job(
    queued_app: Flask,
):
    job_id = ask(queued_app, "test.count", n=30)
    runner = jobs.runner(queued_app)
    runner.huey.flush()  # the first worker took the message from the queue ...
    with queued_app.app_context():
        # ... claimed the job, did the first ten and went silent (killed)
        from sqlalchemy import update

        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="running",
                lease="dead-worker",
                attempts=1,
                done=10,
                checkpoint={"at": 10},
                heartbeat_at=clock.now(),
            )
        )
        db.session.commit()
        assert runner.sweep() == []  # its lease has not run out yet
        with clock.frozen(clock.now() + dt.timedelta(seconds=121)):
            assert runner.sweep() == [job_id]
            work_off(queued_app)
    done = job_row(queued_app, job_id)
    assert done.state is JobStatus.DONE and done.attempts == 2
    assert CALLS == ["10-20", "20-30"]


def test_a_job_whose_lease_was_taken_stops_without_writing(queued_app: Flask):
    job_id = ask(queued_app, "test.count", n=10)
    with queued_app.app_context():
        job = db.session.get(Job, job_id)
        ctx = JobContext(db.session, job, lease="old")
        with pytest.raises(jobs.LostLease):
            ctx.progress(5, 10)


def test_asking_twice_with_one_key_makes_one_job(queued_app: Flask):
    with queued_app.app_context():
        first = jobs.enqueue(db.session, "test.count", {"n": 1}, key="once")
        again = jobs.enqueue(db.session, "test.count", {"n": 1}, key="once")
        db.session.commit()
        assert first.id == again.id
        assert len(db.session.scalars(select(Job)).all()) == 1


def test_mail_leaves_only_after_the_commit_through_a_job(queued_app: Flask, tmp_path: Path):
    queued_app.config["LMS_MAIL_FILE_DIR"] = str(tmp_path / "mail")
    with queued_app.test_request_context():
        mail.send("anna@rete-milano.test", "Oggetto", "Testo")
        db.session.rollback()  # the work was not saved: no message
        mail.send("bea@rete-milano.test", "Oggetto", "Testo")
        db.session.commit()
    work_off(queued_app)
    sent = sorted(p.read_text() for p in (tmp_path / "mail").glob("*.eml"))
    assert len(sent) == 1 and "bea@rete-milano.test" in sent[0]


def test_an_unsafe_address_is_refused_when_queued(queued_app: Flask):
    with queued_app.test_request_context(), pytest.raises(mail.MailError):
        mail.send("a@b.test\nBcc: x@y.test", "Oggetto", "Testo")


def test_the_job_page_shows_progress_to_its_owner_only(queued_app: Flask):
    with queued_app.app_context():
        owner = create_user(db.session, "owner@rete-milano.test", "Ada Prova", password=PASSWORD)
        other = create_user(db.session, "other@rete-milano.test", "Bice Prova", password=PASSWORD)
        admin = create_user(
            db.session,
            "admin@rete-milano.test",
            "Ciro Prova",
            password=PASSWORD,
            roles=(Role.ADMIN,),
        )
        db.session.flush()
        job = jobs.enqueue(db.session, "test.count", {"n": 20}, owner_id=owner.id)
        db.session.commit()
        ids = (owner.id, other.id, admin.id, job.id)
    owner_id, other_id, admin_id, job_id = ids

    def client_of(email: str):
        client = queued_app.test_client()
        page = client.get("/account/login")
        import re

        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        client.post(
            "/account/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        return client

    owner_client = client_of("owner@rete-milano.test")
    queued = owner_client.get(f"/jobs/{job_id}")
    assert queued.status_code == 200 and "In coda" in queued.text
    assert owner_client.get(f"/jobs/{job_id}/status.json").json["status"] == "queued"
    work_off(queued_app)
    done = owner_client.get(f"/jobs/{job_id}")
    assert "Completata" in done.text and "contati 20" in done.text
    assert "20 di 20 (100\u00a0%)" in done.text
    assert owner_client.get(f"/jobs/{job_id}/status.json").json["percent"] == 100
    assert client_of("other@rete-milano.test").get(f"/jobs/{job_id}").status_code == 404
    assert client_of("other@rete-milano.test").get(f"/jobs/{job_id}/status.json").status_code == 404
    admin_client = client_of("admin@rete-milano.test")
    assert admin_client.get(f"/jobs/{job_id}").status_code == 200
    assert "Conta" in admin_client.get("/jobs/").text
    assert owner_client.get("/jobs/999999").status_code == 404


def test_periodic_work_is_one_job_per_minute_whoever_schedules_it(queued_app: Flask):
    runner = jobs.runner(queued_app)
    seven = dt.datetime(2031, 3, 3, 7, 0, tzinfo=clock.LOCAL_ZONE)  # 07:00 in Milan
    with queued_app.test_request_context(), clock.frozen(seven.astimezone(dt.UTC)):
        first = runner.schedule(clock.now())
        again = runner.schedule(clock.now())  # a second worker, the same minute
        names = sorted(db.session.get(Job, job_id).params["name"] for job_id in first)
    assert first == again
    # every minute: the notifications; at 7: the certificates' expiry reminders
    assert names == ["certificates.remind", "notifications.send"]
    work_off(queued_app)
    for job_id in first:
        assert job_row(queued_app, job_id).state is JobStatus.DONE, job_row(queued_app, job_id)


def test_an_admin_sends_a_failed_job_back_to_the_queue(queued_app: Flask):
    job_id = ask(queued_app, "test.refuse")
    work_off(queued_app)
    assert job_row(queued_app, job_id).state is JobStatus.FAILED
    with queued_app.app_context():
        jobs.services.requeue(db.session, db.session.get(Job, job_id))
        db.session.commit()
    queued = job_row(queued_app, job_id)
    assert queued.state is JobStatus.QUEUED and queued.attempts == 0
    assert jobs.runner(queued_app).huey.pending_count() == 1
