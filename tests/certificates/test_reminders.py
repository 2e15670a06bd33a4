"""Reminders before expiry: once per certificate and threshold, with a referent digest."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from certificates.models import ReminderSent
from certificates.reminders import send_reminders
from lms import clock, db


def remind(app: Flask, *args: str):
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "remind", *args])
    assert result.exit_code == 0, result.output
    return result


def completed_for_expiry_in(days: float) -> dt.datetime:
    """Completion date such that a 24-month certificate expires ``days`` from now."""
    now = clock.now()
    target = now + dt.timedelta(days=days)
    from lms.dates import add_months

    return target - (add_months(target, 24) - target)


def to_holder(outbox, email: str) -> list:
    return [m for m in outbox.messages() if m["To"] == email]


def test_reminders_are_sent_once_per_threshold(app: Flask, make_user, complete, outbox):
    referent = make_user(org="CDM-PL-NTDM", referent=True, email="ref@rete-milano.test")
    holder = make_user(org="CDM-PL-NTDM", name="Agente Promemoria")
    far = make_user(org="CDM-PL-NTDM", name="Agente Tranquillo")
    cert = complete(holder, completed_at=completed_for_expiry_in(45))
    complete(far, completed_at=completed_for_expiry_in(200))

    first = remind(app, "--days", "60,30,7")
    assert "Promemoria inviati: 1" in first.output
    mails = to_holder(outbox, holder.email)
    assert len(mails) == 1
    body = mails[0].get_content()
    assert cert.title in mails[0]["Subject"] and cert.serial in body
    assert "http://lms.test/" in body  # the way back to the platform
    digest = to_holder(outbox, referent.email)
    assert len(digest) == 1 and "Agente Promemoria" in digest[0].get_content()
    assert to_holder(outbox, far.email) == []

    again = remind(app, "--days", "60,30,7")
    assert "Promemoria inviati: 0" in again.output
    assert len(to_holder(outbox, holder.email)) == 1 and len(to_holder(outbox, referent.email)) == 1

    # later, the 30-day threshold is reached: one more, once
    later = clock.now() + dt.timedelta(days=20)
    with app.app_context():
        assert send_reminders(db.session, [60, 30, 7], link="l", now=later).reminders == 1
        db.session.commit()  # the e-mail leaves with the commit, as the command's
        assert send_reminders(db.session, [60, 30, 7], link="l", now=later).reminders == 0
        db.session.commit()  # the e-mail leaves with the commit, as the command's
    rows = db.session.scalars(select(ReminderSent).where(ReminderSent.certificate_id == cert.id))
    assert sorted(r.threshold_days for r in rows) == [30, 60]


def test_late_discovery_sends_only_the_nearest_threshold(app: Flask, make_user, complete, outbox):
    holder = make_user()
    complete(holder, completed_at=completed_for_expiry_in(5))
    with app.app_context():
        assert send_reminders(db.session, [60, 30, 7], link="x").reminders == 1
        db.session.commit()  # the e-mail leaves with the commit, as the command's
    assert len(to_holder(outbox, holder.email)) == 1


def test_expired_revoked_and_renewed_get_no_reminder(app: Flask, make_user, complete, outbox):
    from certificates import issuing

    holder = make_user()
    complete(holder, key="course:a", completed_at=completed_for_expiry_in(-3))
    revoked = complete(holder, key="course:b", completed_at=completed_for_expiry_in(10))
    issuing.revoke(db.session, revoked, "errore", actor=None)
    complete(holder, key="course:c", completed_at=completed_for_expiry_in(10))
    complete(holder, key="course:c")  # renewed
    db.session.commit()
    with app.app_context():
        assert send_reminders(db.session, [60, 30, 7], link="x").reminders == 0
        db.session.commit()  # the e-mail leaves with the commit, as the command's
    assert outbox.messages() == []


def test_bad_thresholds_are_refused(app: Flask):
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "remind", "--days", "0,x"])
    assert result.exit_code != 0


def test_an_account_asleep_gets_no_renewal_reminder(app: Flask, make_user, complete, outbox):
    asleep = make_user()
    awake = make_user()
    for holder in (asleep, awake):
        complete(holder, completed_at=completed_for_expiry_in(20))
    asleep.active = False
    asleep.dormant_since = clock.now()
    db.session.commit()
    with app.app_context():
        assert send_reminders(db.session, [60, 30, 7], link="x").reminders == 1
        db.session.commit()  # the e-mail leaves with the commit, as the command's
    assert to_holder(outbox, asleep.email) == [] and len(to_holder(outbox, awake.email)) == 1
