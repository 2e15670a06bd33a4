"""The jobs' own upkeep: finished jobs and their files are kept for a while, then
deleted (daily); a person's jobs in their data export and erasure."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.jobs.models import Job, JobStatus
from lms.jobs.registry import SCHEDULED, Scheduled
from lms.plugins import registry

RETENTION_DAYS = 30  # finished jobs (their parameters may name people) are then deleted


def prune_jobs(session: Session, now: dt.datetime) -> str:
    """Delete finished jobs after RETENTION_DAYS and job files after LMS_JOB_FILE_HOURS."""
    finished = (JobStatus.DONE.value, JobStatus.FAILED.value)
    cutoff = now - dt.timedelta(days=RETENTION_DAYS)
    deleted = session.execute(
        delete(Job).where(Job.status.in_(finished), Job.finished_at < cutoff)
    ).rowcount
    session.commit()
    files_cutoff = now - dt.timedelta(hours=int(current_app.config["LMS_JOB_FILE_HOURS"]))
    folder = Path(current_app.config["LMS_JOB_FILES_DIR"])
    removed = 0
    if folder.is_dir():
        keep = {
            str(job_id)
            for job_id in session.scalars(
                select(Job.id).where(
                    (Job.finished_at.is_(None)) | (Job.finished_at >= files_cutoff)
                )
            )
        }
        for entry in folder.iterdir():
            if entry.is_dir() and entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    session.rollback()
    return f"jobs deleted {deleted}, job folders removed {removed}"


def install(app: Flask) -> None:
    from huey import crontab

    registry(SCHEDULED, app).add(
        "lms.jobs.prune", Scheduled("lms.jobs.prune", crontab("15", "3"), prune_jobs)
    )


# --- personal data -----------------------------------------------------------------------


def _mail_jobs_to(session: Session, email: str) -> list[Job]:
    mails = session.scalars(select(Job).where(Job.kind == "lms.mail"))
    return [job for job in mails if (job.params or {}).get("to") == email]


def export(session: Session, user_id: int) -> dict[str, Any]:
    user = session.get(User, user_id)
    asked = list(session.scalars(select(Job).where(Job.owner_id == user_id).order_by(Job.id)))
    mailed = _mail_jobs_to(session, user.email) if user is not None else []
    return {
        "jobs": [
            {
                "kind": job.kind,
                "asked_at": job.created_at.isoformat(),
                "status": job.status,
                "result": job.message,
                "subject": (job.params or {}).get("subject") if job.kind == "lms.mail" else None,
            }
            for job in asked + mailed
        ]
    }


def erase(session: Session, user_id: int) -> None:
    """Jobs the person asked for and e-mail addressed to them: deleted (their files go
    with the next prune)."""
    user = session.get(User, user_id)
    if user is not None:
        for job in _mail_jobs_to(session, user.email):
            session.delete(job)
    session.execute(delete(Job).where(Job.owner_id == user_id))
