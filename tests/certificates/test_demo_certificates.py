"""``lms demo`` gives the demo operator three certificates: one valid, one expiring soon,
one revoked with its reason; through the real issuing service, relative to the clock,
once however many times it runs (issue 20, "Done when")."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from certificates import codes, keys, signing, verification
from certificates.config import expiring_days
from certificates.demo import ADMIN_EMAIL, OPERATOR_EMAIL, REVOKED_REASON
from certificates.models import Certificate, Status
from lms import clock, db
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from tests.conftest import service_context


def _plugin(app: Flask):
    (found,) = [p for p in app.extensions["lms"].plugins if p.name == "certificates"]
    return found


def _operator(make_user) -> User:
    make_user(email=ADMIN_EMAIL, name="Amministratrice Demo", roles=(Role.ADMIN,))
    return make_user(
        email=OPERATOR_EMAIL,
        name="Operatrice CAV Demo",
        org="CAV-CADMI",
        audience="operatrici_cav",
    )


def _held(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
        )
    )


def _load(app: Flask) -> list[str]:
    with service_context(app):  # an app context, as ``lms demo`` runs it
        lines = list(_plugin(app).demo_data(db.session))
    db.session.commit()
    return lines


@pytest.mark.parametrize("days", [0, -250, 520])  # on any day, as the rest of the demo
def test_valid_expiring_and_revoked_once(app: Flask, make_user, days: int):
    with clock.frozen(clock.now() + dt.timedelta(days=days)):
        operator = _operator(make_user)
        lines = _load(app)
        assert any(OPERATOR_EMAIL in line and "3 nuovi" in line for line in lines), lines
        held = _held(operator)
        now = clock.now()
        with app.app_context():
            statuses = [c.status(now, expiring_days()) for c in held]
        assert statuses == [Status.VALID, Status.EXPIRING, Status.REVOKED]
        valid, expiring, revoked = held
        assert valid.completed_at < now and valid.expires_at > now + dt.timedelta(days=365)
        with app.app_context():
            warn = dt.timedelta(days=expiring_days())
        assert now < expiring.expires_at <= now + warn
        assert revoked.revoked_reason == REVOKED_REASON
        admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        assert revoked.revoked_by_id == admin.id
        audited = db.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "certificate.revoked", AuditEntry.object_id == revoked.serial
            )
        )
        assert audited == 1
        # Issued by the service: numbered, in her name and organisation, signed.
        public = keys.public_keys(db.session)
        for cert in held:
            assert cert.serial.startswith("MI-") and cert.holder_name == "Operatrice CAV Demo"
            assert cert.organisation_name and cert.hours_printed
            check = verification.check_payload(
                cert.payload.encode(),
                signing.signature_document(cert.key_id, cert.signature),
                public,
            )
            assert check.outcome is verification.Outcome.VALID
            assert verification.find_by_code(db.session, codes.grouped(cert.code)) == cert
        # A second run issues nothing more.
        again = _load(app)
        assert any("0 nuovi" in line for line in again), again
        assert [c.id for c in _held(operator)] == [c.id for c in held]


def test_the_newcomer_verifies_them_at_once(app: Flask, client, make_user):
    operator = _operator(make_user)
    _load(app)
    for cert in _held(operator):
        page = client.get(f"/certificates/verify/{codes.grouped(cert.code)}")
        assert page.status_code == 200 and cert.serial in page.get_data(as_text=True)


def test_without_the_demo_operator_nothing_is_issued(app: Flask):
    before = db.session.scalar(select(func.count(Certificate.id)))
    lines = _load(app)
    assert lines == [f"Attestati dimostrativi: nessun account {OPERATOR_EMAIL}."]
    assert db.session.scalar(select(func.count(Certificate.id))) == before


@pytest.mark.slow  # the whole demo: starter courses, staff history, live sessions
def test_lms_demo_issues_them(app: Flask):
    result = app.test_cli_runner().invoke(args=["lms", "demo"])
    assert result.exit_code == 0, result.output
    assert f"Attestati dimostrativi di {OPERATOR_EMAIL}" in result.output
    operator = db.session.scalar(select(User).where(User.email == OPERATOR_EMAIL))
    now = clock.now()
    with app.app_context():
        warn_days = expiring_days()
    assert [c.status(now, warn_days) for c in _held(operator)] == [
        Status.VALID,
        Status.EXPIRING,
        Status.REVOKED,
    ]
