"""Password-reset requests: limited per account and per address, mail after the response.

Issue 16 point 5: 15 requests used to send 15 e-mails, and the mail was built and sent
inside the request, so the answer took longer for registered addresses.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from flask import Flask
from sqlalchemy import select

from lms import clock, db
from lms.audit import AuditEntry
from tests.conftest import post_form

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.set_now(START)


def request_reset(client, email: str, address: str = "192.0.2.1"):
    response = post_form(
        client, "/account/reset", {"email": email}, environ_base={"REMOTE_ADDR": address}
    )
    response.close()  # what a server does once the answer is sent
    return response


def test_fifteen_requests_for_one_account_send_three_mails(app: Flask, make_user, outbox):
    user = make_user()
    limit = app.config["LMS_RESET_MAX_PER_ACCOUNT"]
    statuses = [
        request_reset(app.test_client(), user.email, address=f"203.0.113.{n + 1}").status_code
        for n in range(15)
    ]
    assert statuses == [302] * limit + [429] * (15 - limit)
    assert len(outbox.messages()) == limit
    refused = request_reset(app.test_client(), user.email, address="203.0.113.99")
    assert "controlla la posta" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "3600"
    clock.advance(dt.timedelta(hours=1))
    assert request_reset(app.test_client(), user.email).status_code == 302
    assert len(outbox.messages()) == limit + 1


def test_unknown_addresses_are_limited_alike(app: Flask, make_user, outbox):
    user = make_user()
    known = [request_reset(app.test_client(), user.email).status_code for _ in range(5)]
    unknown = [
        request_reset(app.test_client(), "nessuno@rete-milano.test").status_code for _ in range(5)
    ]
    assert known == unknown == [302, 302, 302, 429, 429]


def test_requests_from_one_address_are_limited(app: Flask, make_user, outbox):
    limit = app.config["LMS_RESET_MAX_PER_ADDRESS"]
    users = [make_user() for _ in range(limit + 3)]
    statuses = [request_reset(app.test_client(), u.email).status_code for u in users]
    assert statuses == [302] * limit + [429] * 3
    assert len(outbox.messages()) == limit
    assert request_reset(app.test_client(), users[-1].email, "198.51.100.1").status_code == 302


def test_reset_mail_is_built_and_sent_after_the_response(app: Flask, make_user, outbox):
    user = make_user()
    response = post_form(app.test_client(), "/account/reset", {"email": user.email})
    assert response.status_code == 302
    # The view has returned and the answer is complete: nothing sent, nothing audited yet.
    assert outbox.messages() == []
    audited = select(AuditEntry).where(AuditEntry.action == "password.reset_requested")
    assert db.session.scalars(audited).all() == []
    response.close()  # the server has sent the answer
    assert [m["To"] for m in outbox.messages()] == [user.email]
    db.session.expire_all()
    assert [e.subject_id for e in db.session.scalars(audited)] == [user.id]


def test_known_and_unknown_addresses_get_the_same_answer(app: Flask, make_user, outbox):
    user = make_user()
    known = post_form(app.test_client(), "/account/reset", {"email": user.email})
    unknown = post_form(app.test_client(), "/account/reset", {"email": "ignoto@rete-milano.test"})
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    assert known.get_data() == unknown.get_data()
    known.close()
    unknown.close()
    assert len(outbox.messages()) == 1


def test_a_mail_that_fails_after_the_response_is_logged(
    app: Flask, make_user, outbox, monkeypatch, caplog
):
    from lms import mail

    def broken(*_args, **_kwargs):
        raise OSError("smtp server unreachable")

    monkeypatch.setattr(mail, "send", broken)
    user = make_user()
    with caplog.at_level(logging.ERROR):
        response = request_reset(app.test_client(), user.email)
    assert response.status_code == 302
    failures = [r for r in caplog.records if "password reset" in r.getMessage()]
    assert failures and failures[0].exc_info is not None
    assert user.email not in failures[0].getMessage()
