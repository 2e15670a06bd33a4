"""Issuing from the completion signal: once, with the right data, renewals and re-issues."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from certificates import codes, issuing
from certificates.config import issuer_settings
from certificates.models import Certificate, Status
from lms import clock, db
from lms.errors import ServiceError
from lms.signals import completion_recorded
from tests.certificates.conftest import event_for
from tests.conftest import make_test_app

SERIAL_RE = re.compile(r"^MI-\d{4}-\d{6}$")


def count(ref: str) -> int:
    stmt = select(func.count(Certificate.id)).where(Certificate.completion_ref == ref)
    return int(db.session.scalar(stmt) or 0)


def test_completion_issues_a_certificate_with_registered_data(make_user, complete):
    completed = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)
    # Issued the next day: the dates below are the clock's, whatever the wall says.
    with clock.frozen(completed + dt.timedelta(days=1)):
        user = make_user(name="Zoë D'Angelo", org="CDM-PL-NTDM")
        cert = complete(user, completed_at=completed, renewal_months=13, hours=7.5)
        assert cert.holder_name == "Zoë D'Angelo"
        assert cert.organisation_name and "Polizia Locale" in cert.organisation_name
        assert cert.title == "Accoglienza e orientamento delle donne"
        assert cert.version_label == "2026.1" and cert.hours == 7.5
        assert cert.completed_at == completed
        assert cert.expires_at == dt.datetime(2027, 2, 28, 10, 0, tzinfo=dt.UTC)  # day clamped
        assert cert.issuer == issuing.DEFAULT_ISSUER
        assert SERIAL_RE.match(cert.serial) and cert.serial.endswith(f"{cert.id:06d}")
        assert codes.normalise(cert.code) == cert.code
        payload = json.loads(cert.payload)
        assert payload["holder"] == "Zoë D'Angelo" and payload["serial"] == cert.serial
        assert payload["code"] == codes.grouped(cert.code) and payload["key_id"] == cert.key_id
        assert cert.status(clock.now(), 60) is Status.VALID
        assert cert.serial.startswith("MI-2026-")


def test_same_completion_sent_twice_gives_one_certificate(app: Flask, make_user, complete):
    user = make_user()
    event = event_for(user)
    first = complete(user, completion_ref=event.completion_ref)
    completion_recorded.send(app, session=db.session, event=event)
    db.session.commit()
    assert count(event.completion_ref) == 1
    again = issuing.issue(db.session, event, issuer_settings(app))
    assert again.id == first.id


def test_database_refuses_a_second_certificate_for_one_completion(make_user, complete):
    cert = complete(make_user())
    duplicate = Certificate(
        user_id=cert.user_id,
        kind="course",
        key=cert.key,
        completion_ref=cert.completion_ref,
        reissue=0,
        serial="MI-DUPLICATE",
        code=codes.new_code(),
        holder_name="X",
        title="X",
        version_label="1",
        hours=1,
        issuer="X",
        completed_at=clock.now(),
        payload="{}",
        signature="x",
        key_id="x",
    )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(duplicate)
        db.session.flush()


def test_no_organisation_and_first_by_name(make_user, complete):
    loner = make_user()
    assert complete(loner).organisation_name is None
    both = make_user(org="CDM-PL-NTDM")
    from lms.organisations.services import add_member, organisation_by_code

    add_member(
        db.session,
        organisation_by_code(db.session, "ASST-NIGUARDA"),
        email=both.email,
        full_name=both.full_name,
        audience_code="triage_asst",
    )
    db.session.commit()
    assert complete(both).organisation_name == "ASST Grande Ospedale Metropolitano Niguarda"


def test_other_kinds_and_credits(make_user, complete):
    user = make_user()
    session = complete(
        user, kind="session", key="session:42", hours=3, credits="3 CFP", renewal_months=None
    )
    assert session.kind == "session" and session.credits == "3 CFP"
    assert session.expires_at is None
    commitment = complete(user, kind="commitment", key="commitment:7", title="Impegno 2026")
    assert commitment.kind == "commitment"


def test_renewal_keeps_history(make_user, complete):
    user = make_user()
    old = complete(user, completed_at=clock.now() - dt.timedelta(days=700))
    other_course = complete(user, key="course:altro")
    new = complete(user, version_label="2027.1")
    db.session.refresh(old)
    assert new.previous_id == old.id and old.superseded_at is not None
    assert old.status(clock.now(), 60) is Status.SUPERSEDED
    assert new.status(clock.now(), 60) is Status.VALID
    db.session.refresh(other_course)
    assert other_course.superseded_at is None  # another key is not a renewal


def test_reissue_keeps_the_serial_chain(app: Flask, make_user, complete):
    user = make_user(name="Lucia Zolc")
    old = complete(user)
    user.full_name = "Łucja Żółć"
    db.session.commit()
    new = issuing.reissue(db.session, old, issuer_settings(app))
    db.session.commit()
    assert new.serial == f"{old.serial}-R1" and new.previous_id == old.id
    assert new.holder_name == "Łucja Żółć" and new.code != old.code
    assert new.expires_at == old.expires_at and new.completion_ref == old.completion_ref
    assert old.revoked_reason == "reissued" and old.status(clock.now(), 60) is Status.REVOKED
    again = issuing.reissue(db.session, new, issuer_settings(app))
    assert again.serial == f"{old.serial}-R2"
    with pytest.raises(ServiceError):
        issuing.reissue(db.session, old, issuer_settings(app))


def test_revocation_and_statuses(make_user, complete):
    user = make_user()
    now = clock.now()
    expiring = complete(user, key="course:a", completed_at=now - dt.timedelta(days=700))
    expired = complete(user, key="course:b", completed_at=now - dt.timedelta(days=800))
    forever = complete(user, key="course:c", renewal_months=None)
    assert expiring.status(now, 60) is Status.EXPIRING
    assert expiring.status(now, 10) is Status.VALID
    assert expired.status(now, 60) is Status.EXPIRED
    assert forever.status(now, 60) is Status.VALID
    with pytest.raises(ServiceError):
        issuing.revoke(db.session, forever, "  ", actor=None)
    issuing.revoke(db.session, forever, "Errore di registrazione", actor=user)
    assert forever.status(now, 60) is Status.REVOKED and forever.revoked_by_id == user.id
    with pytest.raises(ServiceError):
        issuing.revoke(db.session, forever, "di nuovo", actor=None)


def test_apps_without_the_plugin_issue_nothing(app: Flask, tmp_path: Path, make_user):
    bare = make_test_app(tmp_path, app.config["LMS_DATABASE_URL"], LMS_PLUGINS="")
    bare.extensions["lms"].engine = app.extensions["lms"].engine
    user = make_user()
    event = event_for(user)
    completion_recorded.send(bare, session=db.session, event=event)
    assert count(event.completion_ref) == 0
    # and a second app with the plugin did not connect a second receiver
    completion_recorded.send(app, session=db.session, event=event)
    assert count(event.completion_ref) == 1
