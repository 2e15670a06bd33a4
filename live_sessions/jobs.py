"""Live sessions' periodic work: the reminder for sessions held tomorrow, every hour
(once per registration however often it runs; ``lms live_sessions remind`` for cron)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy.orm import Session

from lms import jobs
from lms.plugins import registry


def send_reminders(session: Session, now: dt.datetime) -> str:
    from live_sessions.reminders import send_reminders as remind

    report = remind(session, now=now)
    session.commit()
    return f"session reminders {report.sent}, failed {report.failed}"


def install(app: Flask) -> None:
    registry(jobs.SCHEDULED, app).add(
        "live_sessions.remind",
        jobs.Scheduled("live_sessions.remind", jobs.crontab(minute="5"), send_reminders),
    )
