"""What a running job sees: its session, parameters, checkpoint and a progress call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from lms import clock
from lms.jobs.models import Job, JobStatus


class LostLease(Exception):
    """Another worker took this job over (ours was presumed dead): stop, keep nothing."""


class JobContext:
    def __init__(
        self, session: Session, job: Job, lease: str, *, reads_mostly: bool = False
    ) -> None:
        self.session = session
        self._commit_reads_first = reads_mostly
        self.job_id = job.id
        self.params: dict[str, Any] = dict(job.params or {})
        self.checkpoint: dict[str, Any] = dict(job.checkpoint or {})
        self.owner_id = job.owner_id
        self.organisation_id = job.organisation_id
        self.attempt = job.attempts
        self._lease = lease
        self.done = job.done
        self.total = job.total

    def progress(
        self, done: int, total: int | None = None, *, checkpoint: dict[str, Any] | None = None
    ) -> None:
        """Record progress (and what a resumed attempt needs) and COMMIT the session:
        the work done so far and its checkpoint become durable together."""
        values: dict[str, Any] = {"done": done, "heartbeat_at": clock.now()}
        if total is not None:
            values["total"] = total
            self.total = total
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
            self.checkpoint = dict(checkpoint)
        self._update(values)
        self.done = done
        self.session.commit()

    def finish(self, message: str | None, result: dict[str, Any] | None = None) -> None:
        self._update(
            {
                "status": JobStatus.DONE.value,
                "finished_at": clock.now(),
                "heartbeat_at": clock.now(),
                "message": message,
                "result": result or {},
                "error": None,
                "done": self.total if self.total is not None else self.done,
            }
        )
        self.session.commit()

    def files_dir(self) -> Path:
        """A folder of this job's own for the files it produces (a ZIP to download).
        Several hosts must share ``LMS_JOB_FILES_DIR`` (docs/deployment.md)."""
        path = Path(current_app.config["LMS_JOB_FILES_DIR"]) / str(self.job_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def now(self) -> dt.datetime:
        return clock.now()

    def _update(self, values: dict[str, Any]) -> None:
        if self._commit_reads_first:
            self.session.commit()  # end the read snapshot: the UPDATE begins a new one
        rows = self.session.execute(
            update(Job)
            .where(Job.id == self.job_id, Job.lease == self._lease)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if rows != 1:
            raise LostLease(self.job_id)
