"""The core's periodic work, run by the job worker: throttle events and stale registration
requests pruned, retention
(old audit entries, inactive accounts). ``lms prune`` and ``lms retention`` do the same
for installations that prefer cron."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app
from sqlalchemy.orm import Session

from lms.jobs import SCHEDULED, Scheduled, crontab
from lms.plugins import registry


def prune_throttle(session: Session, now: dt.datetime) -> str:
    from lms import throttle
    from lms.registration.services import prune_expired

    removed = throttle.prune(session, dt.timedelta(days=30))
    requests = prune_expired(
        session,
        now,
        token_max_age=current_app.config["LMS_REGISTRATION_TOKEN_MAX_AGE"],
    )
    session.commit()
    return f"throttle events removed {removed}, registration requests expired or removed {requests}"


def run_retention(session: Session, now: dt.datetime) -> str:
    from lms.retention import RetentionPolicy
    from lms.retention import run_retention as retention

    report = retention(session, RetentionPolicy.from_config(current_app))
    session.commit()
    return (
        f"audit entries deleted {report.audit_entries_deleted}, warned {report.warned}, "
        f"deactivated {report.deactivated}"
    )


def install(app: Flask) -> None:
    scheduled = registry(SCHEDULED, app)
    scheduled.add("lms.prune", Scheduled("lms.prune", crontab("30", "3"), prune_throttle))
    scheduled.add("lms.retention", Scheduled("lms.retention", crontab("45", "3"), run_retention))
