"""Retention: old audit entries go, inactive accounts are warned then deactivated.

Run daily from cron (``lms retention``). Administrators are never deactivated
(someone must keep the keys). Inactivity counts from the latest sign-in, and
from the end of what plugins say keeps a person in training (a valid
certificate). A deactivated account is dormant, not closed: the reset link or
the person's referent brings it back. Whether a person was warned is read from
the audit log itself, so the job is idempotent and needs no table of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, delete, exists, select
from sqlalchemy.orm import Session

from lms import audit, clock, mail
from lms.accounts.models import Role, User, UserRole
from lms.audit import AuditEntry
from lms.plugins import Plugin


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


def _latest(first: ColumnElement[Any], second: ColumnElement[Any]) -> ColumnElement[Any]:
    """The later of two instants, ``second`` possibly NULL (portable ``greatest``)."""
    return case((second > first, second), else_=first)


def last_activity(plugins: Iterable[Plugin]) -> ColumnElement[dt.datetime]:
    """When each person last counted as in training: the latest of the account's
    creation, last sign-in, last reactivation and what every plugin says (the expiry
    of their last valid certificate, for one), so that someone who comes back only to
    renew a three-year certificate still has an account to come back to."""
    latest: ColumnElement[Any] = User.created_at
    horizons = [User.last_login_at, User.reactivated_at]
    horizons += [h for h in (p.active_until(User.id) for p in plugins) if h is not None]
    for horizon in horizons:
        latest = _latest(latest, horizon)
    return latest


def run_retention(
    session: Session,
    policy: RetentionPolicy,
    *,
    plugins: Iterable[Plugin] | None = None,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Prune the audit log, warn people about to be deactivated, put to sleep those
    warned long enough ago. ``plugins`` default to the current app's."""
    if plugins is None:
        plugins = current_app.extensions["lms"].plugins
    now = now or clock.now()
    activity = last_activity(plugins)
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
        AuditEntry.created_at >= activity,
    )
    candidates = select(User).where(User.active.is_(True), ~is_admin)
    to_warn = list(session.scalars(candidates.where(activity < warn_since, ~warned_after_activity)))
    for user in to_warn:
        with force_locale(user.locale):
            body = render_template(
                "lms/email/inactive_warning.txt", user=user, days=policy.warning_days
            )
            mail.send(user.email, _("Il tuo account sta per essere disattivato"), body)
        audit.record(
            session,
            "retention.warned",
            object_type="user",
            object_id=user.id,
            subject_id=user.id,
            at=now,
        )
    session.flush()
    warned_long_ago = exists().where(
        AuditEntry.subject_id == User.id,
        AuditEntry.action == "retention.warned",
        and_(
            AuditEntry.created_at >= activity,
            AuditEntry.created_at <= now - dt.timedelta(days=policy.warning_days),
        ),
    )
    to_deactivate = list(
        session.scalars(candidates.where(activity < inactive_since, warned_long_ago))
    )
    for user in to_deactivate:
        user.active = False
        user.dormant_since = now
        user.rotate_session_token()
        audit.record(
            session,
            "retention.deactivated",
            object_type="user",
            object_id=user.id,
            subject_id=user.id,
            at=now,
        )
    session.flush()
    return RetentionReport(int(deleted), len(to_warn), len(to_deactivate))
