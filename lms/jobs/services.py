"""Asking for a job and reading it back: what views and other services call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import clock
from lms.errors import NotFound
from lms.jobs.models import Job, JobStatus
from lms.jobs.registry import JOB_KINDS
from lms.plugins import registry

PENDING_KEY = "lms.jobs.dispatch"


def enqueue(
    session: Session,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    owner_id: int | None = None,
    organisation_id: int | None = None,
    key: str | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Add a job to ``session``; it is dispatched to a worker when the session commits.

    With ``key``, asking twice gives the first job (in its current state).
    """
    if key is not None:
        existing = session.scalar(select(Job).where(Job.key == key))
        if existing is not None:
            return existing
    declared = registry(JOB_KINDS).get(kind)
    job = Job(
        kind=kind,
        key=key,
        params=params or {},
        owner_id=owner_id,
        organisation_id=organisation_id,
        locale=str(get_locale() or "it") if has_request_context() else "it",
        max_attempts=max_attempts or (declared.max_attempts if declared else 4),
        status=JobStatus.QUEUED.value,
        checkpoint={},
        result={},
    )
    if key is None:
        session.add(job)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:  # asked at the same moment elsewhere
            found = session.scalar(select(Job).where(Job.key == key))
            assert found is not None
            return found
    session.info.setdefault(PENDING_KEY, []).append(job.id)
    return job


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(_("Attività non trovata."))
    return job


def recent(
    session: Session, *, owner_id: int | None = None, failed_only: bool = False, limit: int = 50
) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if owner_id is not None:
        query = query.where(Job.owner_id == owner_id)
    if failed_only:
        query = query.where(Job.status.in_([JobStatus.FAILED.value, JobStatus.RETRYING.value]))
    return list(session.scalars(query))


def title(job: Job) -> str:
    declared = registry(JOB_KINDS).get(job.kind)
    return str(declared.title) if declared else job.kind


def file_expired(job: Job, now: dt.datetime | None = None) -> bool:
    """Files a job produced are kept ``LMS_JOB_FILE_HOURS`` after it finished."""
    if job.finished_at is None:
        return False
    hours = int(current_app.config["LMS_JOB_FILE_HOURS"])
    return (now or clock.now()) > job.finished_at + dt.timedelta(hours=hours)


def requeue(session: Session, job: Job) -> None:
    """A failed job gets a new set of attempts; it resumes from its checkpoint."""
    job.status = JobStatus.QUEUED.value
    job.attempts = 0
    job.finished_at = None
    job.error = None
    job.message = None
    job.lease = None
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(job.id)
