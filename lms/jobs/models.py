"""The record of each background job: who asked, what it did, how far it got.

Huey carries the work to a worker; this row is what people see and what makes the
work happen exactly once. A worker *claims* the row (a conditional UPDATE that also
sets a lease token), writes its progress and checkpoint in the same transactions as
the work itself, and marks it done in the last one. A worker that dies leaves a
lease that runs out; the sweeper dispatches the job again and the next claim resumes
from the last committed checkpoint.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms import clock
from lms.db import Base, UTCDateTime


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # failed, another attempt is scheduled
    DONE = "done"
    FAILED = "failed"  # every attempt failed

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


class Job(Base):
    __tablename__ = "lms_job"
    __table_args__ = (Index("ix_lms_job_status_heartbeat", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    # Unique when set: the same request made twice (a double click, two consumers
    # scheduling the same periodic run) makes one job.
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="SET NULL")
    )
    locale: Mapped[str] = mapped_column(String(10), default="it")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=4)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column()
    # What a resumed attempt needs to continue (rows applied, files written ...).
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The outcome shown to people: a sentence in the starter's language, and data
    # such as a file to download.
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def state(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))
