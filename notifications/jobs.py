"""Notifications' periodic work: every minute, the deadline scan and the outbox sent
(``lms notifications send`` does the same for cron)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy.orm import Session

from lms import jobs
from lms.plugins import registry


def send_pending(session: Session, now: dt.datetime) -> str:
    from notifications.deadlines import scan
    from notifications.services import deliver

    written = scan(session, now)
    report = deliver(session, now=now)
    session.commit()
    return f"deadline notifications {written}, e-mail sent {report.sent}, failed {report.failed}"


def install(app: Flask) -> None:
    registry(jobs.SCHEDULED, app).add(
        "notifications.send",
        jobs.Scheduled("notifications.send", jobs.crontab(minute="*"), send_pending),
    )
