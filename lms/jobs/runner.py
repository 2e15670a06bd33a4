"""The job runner: Huey carries job ids to workers; this module claims and runs them.

One :class:`JobRunner` per app (``LMSState.jobs``), with a Huey instance chosen by
``LMS_JOBS_URL`` (see :func:`make_huey`). A job is *dispatched* — its id put on Huey's
queue — after the transaction that created it commits (a session hook), so a worker
never looks for a row that is not there yet, and work asked for in a transaction that
rolls back never runs.

A worker claims a job with one conditional UPDATE (queued, retrying, or running with a
lease that ran out), under a fresh lease token; every later write checks the token.
The sweeper, every minute and when a worker starts, dispatches again what should be
running and is not (a worker killed mid-job, a queue message lost): the claim makes a
second dispatch harmless and the checkpoint makes the resumed attempt continue, so a
job completes exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import Huey, MemoryHuey, SqliteHuey, crontab
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import make_url

from lms import clock, db
from lms.errors import ServiceError
from lms.jobs.context import JobContext, LostLease
from lms.jobs.models import Job, JobStatus
from lms.jobs.registry import JOB_KINDS, SCHEDULED
from lms.plugins import registry

log = logging.getLogger(__name__)

QUEUE_NAME = "lms"
# Huey's own retries, so an attempt that raised is tried again after 10, 20, 40 s;
# the row's max_attempts decides when to give up.
RETRIES = 3
RETRY_DELAY = 10
RETRY_BACKOFF = 2
# A queued job not started after this long is dispatched again by the sweeper.
DISPATCH_GRACE = dt.timedelta(seconds=60)


def make_huey(app: Flask) -> Huey:
    """``LMS_JOBS_URL``: unset = next to the data (a SQLite file in the instance folder
    beside a SQLite database; Huey's SQL storage in the installation's own PostgreSQL
    database, shared by every host); ``redis://...`` (needs the redis package);
    ``memory://`` (one process: tests); ``immediate`` (jobs run as soon as their
    transaction commits, in the same process: tests and development)."""
    url = app.config["LMS_JOBS_URL"]
    if url == "immediate":
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    if url == "memory://":
        return MemoryHuey(QUEUE_NAME, results=False)
    if not url:
        database = app.config["LMS_DATABASE_URL"]
        if database.startswith("sqlite"):
            url = f"sqlite:///{Path(app.instance_path) / 'jobs.sqlite3'}"
        else:
            url = database
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    if url.startswith("redis://"):
        from huey import RedisHuey

        return RedisHuey(QUEUE_NAME, url=url, results=False)
    if url.startswith(("postgresql", "postgres")):
        return _postgres_huey(url)
    raise ValueError(f"LMS_JOBS_URL: unsupported {url!r}")


def _postgres_huey(url: str) -> Huey:
    from huey.contrib.sql_huey import BytesBlobField, SqlStorage
    from peewee import (
        CharField,
        CompositeKey,
        FloatField,
        IntegerField,
        Model,
        PostgresqlDatabase,
        TimestampField,
    )

    class PrefixedStorage(SqlStorage):  # type: ignore[misc]
        """Huey's SQL storage with its tables named huey_* (apart from the platform's
        lms_* and the plugins' tables); the models are Huey's own, renamed."""

        def create_models(self) -> Any:
            class Base(Model):  # type: ignore[misc]
                class Meta:
                    database = self.database
                    table_function = lambda model: "huey_" + model.__name__.lower()  # noqa: E731

            class KV(Base):
                queue = CharField()
                key = CharField()
                value = BytesBlobField()

                class Meta:
                    primary_key = CompositeKey("queue", "key")

            class Schedule(Base):
                queue = CharField()
                data = BytesBlobField()
                timestamp = TimestampField(resolution=1000)

                class Meta:
                    indexes = ((("queue", "timestamp"), False),)

            class Task(Base):
                queue = CharField()
                data = BytesBlobField()
                priority = FloatField(default=0.0)

            Task.add_index(Task.priority.desc(), Task.id)

            class Counter(Base):
                queue = CharField()
                key = CharField()
                value = IntegerField()

                class Meta:
                    primary_key = CompositeKey("queue", "key")

            return (KV, Schedule, Task, Counter)

    parsed = make_url(url)
    database = PostgresqlDatabase(
        parsed.database,
        user=parsed.username,
        password=parsed.password,
        host=parsed.host or parsed.query.get("host"),  # a unix socket's folder in the query
        port=parsed.port or int(parsed.query.get("port", 5432)),  # type: ignore[arg-type]
    )
    return Huey(QUEUE_NAME, storage_class=PrefixedStorage, database=database, results=False)


class JobRunner:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lease = dt.timedelta(seconds=int(app.config["LMS_JOBS_LEASE_SECONDS"]))
        self._huey: Huey | None = None
        self._run_task: Any = None

    @property
    def huey(self) -> Huey:
        """Built on first use: creating the app never connects to the queue."""
        if self._huey is None:
            huey = make_huey(self.app)
            self._run_task = huey.task(
                retries=RETRIES,
                retry_delay=RETRY_DELAY,
                retry_backoff=RETRY_BACKOFF,
                name="run_job",
            )(self._run_in_app)
            huey.periodic_task(crontab(minute="*"), name="tick")(self._tick_in_app)
            self._huey = huey
        return self._huey

    # --- putting work on the queue -----------------------------------------------------

    def dispatch(self, job_id: int) -> None:
        try:
            self.huey  # noqa: B018 - builds the queue and its task on first use
            self._run_task(job_id)
        except Exception:  # the sweeper dispatches it again
            log.exception("job %s: could not reach the queue", job_id)

    # --- a worker's side ---------------------------------------------------------------

    @property
    def _immediate_sessions(self) -> bool:
        """SQLite with the app's own engine (not a test's bound connection)."""
        engine = self.app.extensions["lms"].engine
        return engine.dialect.name == "sqlite" and db.session.session_factory.kw.get("bind") is None

    @contextmanager
    def _context(self) -> Iterator[None]:
        """A request context on ``LMS_BASE_URL``: jobs build links and render the same
        templates (e-mail) as requests do, with nobody logged in. Its own application
        context, hence its own session, even when run from a request (immediate mode)."""
        with (
            self.app.app_context(),
            self.app.test_request_context(base_url=self.app.config["LMS_BASE_URL"]),
        ):
            engine = self.app.extensions["lms"].engine
            if self._immediate_sessions:
                # Jobs write in every transaction: on SQLite each begins with the write
                # lock (as requests that may write do, lms/db.py), so two worker threads
                # or a worker and a request wait for each other instead of failing.
                db.session.registry.set(
                    db.session.session_factory(
                        bind=engine.execution_options(sqlite_begin="IMMEDIATE")
                    )
                )
            yield

    def _run_in_app(self, job_id: int) -> None:
        with self._context():
            self.run(job_id)

    def _tick_in_app(self) -> None:
        with self._context():
            self.sweep()
            self.schedule(clock.now())

    def run(self, job_id: int) -> None:
        """Claim and run one job; raise to have Huey retry it later."""
        session = db.session
        now = clock.now()
        lease = uuid.uuid4().hex
        claimable = or_(
            Job.status.in_([JobStatus.QUEUED.value, JobStatus.RETRYING.value]),
            and_(Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < now - self.lease),
        )
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, claimable)
            .values(
                status=JobStatus.RUNNING.value,
                lease=lease,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        if claimed != 1:
            return  # done, running elsewhere, or never committed
        job = session.get(Job, job_id, populate_existing=True)
        assert job is not None
        kind = registry(JOB_KINDS, self.app).get(job.kind)
        reads_mostly = kind is not None and kind.reads_mostly
        if reads_mostly and self._immediate_sessions:
            session.close()
            db.session.registry.set(db.session.session_factory())  # deferred BEGIN
            session = db.session
            job = session.get(Job, job_id)
            assert job is not None
        ctx = JobContext(session, job, lease, reads_mostly=reads_mostly)
        try:
            if kind is None:
                raise ServiceError(_("Tipo di attività sconosciuto: %(kind)s", kind=job.kind))
            with force_locale(job.locale):
                message = kind.run(ctx)
                ctx.finish(message, ctx.checkpoint.get("result"))
        except LostLease:
            session.rollback()
            log.warning("job %s: lease lost to another worker, stopping", job_id)
        except Exception as error:
            session.rollback()
            self._failed(job_id, lease, error)

    def _failed(self, job_id: int, lease: str, error: Exception) -> None:
        session = db.session
        job = session.get(Job, job_id, populate_existing=True)
        assert job is not None
        refused = isinstance(error, ServiceError)  # a clear answer: trying again won't help
        final = refused or job.attempts >= job.max_attempts
        if refused:
            shown = str(error)
        else:
            log.error("job %s (%s) failed", job_id, job.kind, exc_info=error)
            with force_locale(job.locale):
                shown = _(
                    "Errore imprevisto (%(error)s). Riferimento per l'assistenza: attività %(id)d.",
                    error=type(error).__name__,
                    id=job_id,
                )
        now = clock.now()
        delay = dt.timedelta(seconds=RETRY_DELAY * RETRY_BACKOFF ** max(0, job.attempts - 1))
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease == lease)
            .values(
                status=(JobStatus.FAILED if final else JobStatus.RETRYING).value,
                finished_at=now if final else None,
                # a retrying job's heartbeat is when it is due again (the sweeper waits)
                heartbeat_at=now if final else now + delay,
                message=shown,
                error=f"{type(error).__name__}: {error}"[:4000],
                lease=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if not final:
            raise error  # Huey schedules the next attempt with backoff

    def sweep(self, *, starting: bool = False) -> list[int]:
        """Dispatch again the jobs that should be running and are not. A worker that
        starts dispatches every waiting job at once (one taken from the queue by a worker
        killed before it began would otherwise wait for the next minute's sweep)."""
        session = db.session
        now = clock.now()
        grace = dt.timedelta(0) if starting else DISPATCH_GRACE
        stale = or_(
            and_(Job.status == JobStatus.QUEUED.value, Job.created_at <= now - grace),
            and_(
                Job.status == JobStatus.RETRYING.value,
                Job.heartbeat_at <= now - grace,
            ),
            and_(Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < now - self.lease),
        )
        ids = list(session.scalars(select(Job.id).where(stale).order_by(Job.id).limit(500)))
        session.rollback()
        for job_id in ids:
            self.dispatch(job_id)
        return ids

    def schedule(self, now: dt.datetime) -> list[int]:
        """Create this minute's periodic jobs (once, whichever worker asks first)."""
        from lms.jobs import services

        local = now.astimezone(clock.LOCAL_ZONE).replace(second=0, microsecond=0)
        created = []
        for entry in registry(SCHEDULED, self.app):
            if entry.due(local.replace(tzinfo=None)):
                key = f"scheduled:{entry.name}:{local:%Y-%m-%dT%H:%M}"
                job = services.enqueue(
                    db.session, SCHEDULED_KIND, {"name": entry.name}, key=key, max_attempts=1
                )
                created.append(job.id)
        db.session.commit()
        return created


SCHEDULED_KIND = "lms.scheduled"


def run_scheduled(ctx: JobContext) -> str | None:
    entry = registry(SCHEDULED).get(ctx.params["name"])
    if entry is None:
        raise ServiceError(f"unknown scheduled work {ctx.params['name']!r}")
    line = entry.run(ctx.session, clock.now())
    return line
