"""Retention: audit entries pruned, inactive accounts warned once, then deactivated."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from lms import audit, db
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.retention import RetentionPolicy, run_retention

POLICY = RetentionPolicy(audit_days=365, inactive_months=12, warning_days=30)
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def test_old_audit_entries_are_deleted(app, make_user):
    make_user()
    old = audit.record(db.session, "test.old")
    recent = audit.record(db.session, "test.recent")
    db.session.flush()
    db.session.execute(
        AuditEntry.__table__.update()
        .where(AuditEntry.id == old.id)
        .values(created_at=NOW - dt.timedelta(days=400))
    )
    with app.test_request_context():
        report = run_retention(db.session, POLICY, now=NOW)
        db.session.commit()
    assert report.audit_entries_deleted >= 1
    remaining = set(db.session.scalars(select(AuditEntry.action)))
    assert "test.recent" in remaining and "test.old" not in remaining
    assert recent.id is not None


def test_inactive_account_is_warned_once_then_deactivated(app, make_user, outbox):
    sleeper = make_user(email="dormiente@rete-milano.test")
    admin = make_user(roles=(Role.ADMIN,))
    active = make_user()
    for user, last in (
        (sleeper, NOW - dt.timedelta(days=350)),
        (admin, NOW - dt.timedelta(days=900)),
        (active, NOW - dt.timedelta(days=10)),
    ):
        user.last_login_at = last
        user.created_at = last
    db.session.commit()
    with app.test_request_context():
        first = run_retention(db.session, POLICY, now=NOW)
        again = run_retention(db.session, POLICY, now=NOW + dt.timedelta(days=1))
        db.session.commit()
    assert (first.warned, first.deactivated) == (1, 0)
    assert (again.warned, again.deactivated) == (0, 0)  # warned once only
    messages = outbox.messages()
    assert len(messages) == 1 and messages[0]["To"] == "dormiente@rete-milano.test"
    with app.test_request_context():
        later = run_retention(db.session, POLICY, now=NOW + dt.timedelta(days=31))
        db.session.commit()
    assert (later.warned, later.deactivated) == (0, 1), later
    db.session.expire_all()
    assert not db.session.get(User, sleeper.id).active
    assert db.session.get(User, admin.id).active  # administrators are never deactivated
    assert db.session.get(User, active.id).active
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "retention.deactivated")
        )
        == 1
    )
