"""Background jobs on Huey: the public face of ``lms.jobs``.

A view asks for work with :func:`enqueue` (a row in ``lms_job``, dispatched to a worker
when the transaction commits) and shows the job's page; a plugin declares the kinds it
runs (``JOB_KINDS``) and its periodic work (``SCHEDULED``) in ``init_app``. The worker
is ``lms worker`` (``make run`` starts one beside gunicorn). Why Huey, and how a job
runs exactly once: docs/architecture.md, "Background jobs".
"""

from __future__ import annotations

import logging

from flask import Flask
from huey import crontab
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from lms.jobs.context import JobContext, LostLease
from lms.jobs.models import Job, JobStatus
from lms.jobs.registry import JOB_KINDS, SCHEDULED, JobKind, Scheduled
from lms.jobs.runner import SCHEDULED_KIND, JobRunner, run_scheduled
from lms.jobs.services import PENDING_KEY, enqueue, file_expired, get_job, recent, title

log = logging.getLogger(__name__)

__all__ = [
    "JOB_KINDS",
    "SCHEDULED",
    "Job",
    "JobContext",
    "JobKind",
    "JobRunner",
    "JobStatus",
    "LostLease",
    "crontab",
    "Scheduled",
    "enqueue",
    "file_expired",
    "get_job",
    "recent",
    "runner",
    "title",
]


def runner(app: Flask | None = None) -> JobRunner:
    from flask import current_app

    return (app or current_app).extensions["lms"].jobs  # type: ignore[no-any-return]


def install(app: Flask, session_class: type[Session]) -> JobRunner:
    """Create the app's runner and dispatch each session's new jobs after it commits."""
    from lms import db
    from lms.i18n import lazy_gettext as _l
    from lms.plugins import registry

    job_runner = JobRunner(app)

    def _after_commit(session: Session) -> None:
        for job_id in session.info.pop(PENDING_KEY, []):
            job_runner.dispatch(job_id)

    def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None:  # the whole transaction, not a savepoint
            session.info.pop(PENDING_KEY, None)

    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_soft_rollback", _after_soft_rollback)
    registry(JOB_KINDS, app).add(
        SCHEDULED_KIND, JobKind(SCHEDULED_KIND, run_scheduled, _l("Attività periodica"))
    )

    from lms.jobs import upkeep

    upkeep.install(app)

    @app.teardown_appcontext
    def _uncommitted_jobs(_exc: BaseException | None) -> None:
        # Runs before the session is removed (teardowns run last-registered first).
        pending = db.session.info.get(PENDING_KEY) if db.session.registry.has() else None
        if pending and _exc is None:
            db.session.info.pop(PENDING_KEY, None)
            log.error("jobs %s were asked for but their transaction never committed", pending)
            if app.testing:
                raise RuntimeError(f"jobs {pending} queued in a transaction never committed")

    return job_runner
