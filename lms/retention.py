"""Retention: old audit entries go, inactive accounts are warned then deactivated.

Run daily from cron (``lms retention``). Administrators are never deactivated
(someone must keep the keys). Whether a person was warned is read from the
audit log itself, so the job is idempotent and needs no table of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Flask, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from lms import audit, clock, mail
from lms.accounts.models import Role, User, UserRole
from lms.audit import AuditEntry


@dataclass(frozen=True)
class RetentionPolicy:
    audit_days: int
    inactive_months: int
    warning_days: int

    @classmethod
    def from_config(cls, app: Flask) -> RetentionPolicy:
        config = app.config
        return cls(
            int(config["LMS_AUDIT_RETENTION_DAYS"]),
            int(config["LMS_INACTIVE_MONTHS"]),
            int(config["LMS_INACTIVE_WARNING_DAYS"]),
        )


@dataclass(frozen=True)
class RetentionReport:
    audit_entries_deleted: int
    warned: int
    deactivated: int


def _last_activity():  # noqa: ANN202 - a SQL expression
    return func.coalesce(User.last_login_at, User.created_at)


def run_retention(
    session: Session, policy: RetentionPolicy, *, now: dt.datetime | None = None
) -> RetentionReport:
    now = now or clock.now()
    deleted = (
        session.execute(
            delete(AuditEntry).where(
                AuditEntry.created_at < now - dt.timedelta(days=policy.audit_days)
            )
        ).rowcount
        or 0
    )
    inactive_since = now - dt.timedelta(days=round(policy.inactive_months * 30.44))
    warn_since = inactive_since + dt.timedelta(days=policy.warning_days)
    is_admin = exists().where(UserRole.user_id == User.id, UserRole.role == Role.ADMIN)
    warned_after_activity = exists().where(
        AuditEntry.subject_id == User.id,
        AuditEntry.action == "retention.warned",
        AuditEntry.created_at >= _last_activity(),
    )
    candidates = select(User).where(User.active.is_(True), ~is_admin)
    to_warn = list(
        session.scalars(candidates.where(_last_activity() < warn_since, ~warned_after_activity))
    )
    for user in to_warn:
        with force_locale(user.locale):
            body = render_template(
                "lms/email/inactive_warning.txt", user=user, days=policy.warning_days
            )
            mail.send(user.email, _("Il tuo account sta per essere disattivato"), body)
        audit.record(
            session, "retention.warned", object_type="user", object_id=user.id, subject_id=user.id
        )
    session.flush()
    warned_long_ago = exists().where(
        AuditEntry.subject_id == User.id,
        AuditEntry.action == "retention.warned",
        and_(
            AuditEntry.created_at >= _last_activity(),
            AuditEntry.created_at <= now - dt.timedelta(days=policy.warning_days),
        ),
    )
    to_deactivate = list(
        session.scalars(candidates.where(_last_activity() < inactive_since, warned_long_ago))
    )
    for user in to_deactivate:
        user.active = False
        user.rotate_session_token()
        audit.record(
            session,
            "retention.deactivated",
            object_type="user",
            object_id=user.id,
            subject_id=user.id,
        )
    session.flush()
    return RetentionReport(int(deleted), len(to_warn), len(to_deactivate))
