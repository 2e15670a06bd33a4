"""What a plugin declares: the kinds of job it runs and the work it schedules.

Both are extension points (``lms.plugins.registry``): a plugin adds entries in its
``init_app``, so two apps in one process never run each other's jobs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lms.plugins import ExtensionPoint

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lms.jobs.context import JobContext


@dataclass(frozen=True)
class JobKind:
    """``run(ctx)`` does the work and returns the sentence shown as its result.

    It must be safe to run again after a crash: commit progress only through
    ``ctx.progress(..., checkpoint=...)`` and resume from ``ctx.checkpoint``.
    ``title`` names the job on the progress page ("Importazione del personale").
    """

    name: str
    run: Callable[[JobContext], str | None]
    title: Any  # a lazy string
    max_attempts: int = 4
    # A job that mostly reads (a ZIP of PDFs, an export) must not hold SQLite's write
    # lock while it works: its transactions begin deferred, and its progress is written
    # in a transaction of its own. Jobs that write keep BEGIN IMMEDIATE.
    reads_mostly: bool = False


@dataclass(frozen=True)
class Scheduled:
    """Periodic work: ``due(local_time)`` says whether this minute is one to run in
    (``huey.crontab(...)`` gives such a function), ``run(session, now)`` does it and
    returns a line for the log. Each run is a job keyed by its minute, so several
    workers scheduling the same minute make one job."""

    name: str
    due: Callable[[dt.datetime], bool]
    run: Callable[[Session, dt.datetime], str | None]


JOB_KINDS: ExtensionPoint[JobKind] = ExtensionPoint("lms.jobs.kinds")
SCHEDULED: ExtensionPoint[Scheduled] = ExtensionPoint("lms.jobs.scheduled")
