"""Behind ``LMS_TRUSTED_PROXIES`` (a load balancer in front of several hosts), throttling
and Flask-Login's "strong" session protection see the client's address as ProxyFix
gives it, never an address the client wrote itself (issue 21, item 3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms import clock
from tests.conftest import PASSWORD, csrf_token, make_test_app, post_form

BALANCER = "10.0.0.2"  # the trusted hop every request comes through
ALICE, BOB = "198.51.100.7", "203.0.113.66"
WRONG = "wrong-password-xx"


@pytest.fixture
def proxied(app: Flask, tmp_path: Path) -> Flask:
    return make_test_app(tmp_path, app.config["LMS_DATABASE_URL"], LMS_TRUSTED_PROXIES=1)


def browser(app: Flask, forwarded_for: str | None, remote: str = BALANCER) -> FlaskClient:
    """A client whose every request arrives from ``remote`` with that X-Forwarded-For."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    client.environ_base["HTTP_USER_AGENT"] = "Navigatore di prova"
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account/data").status_code == 200


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    response = post_form(client, "/account/login", {"email": email, "password": password})
    return int(response.status_code)


def test_throttling_counts_each_forwarded_client_on_its_own(proxied: Flask, make_user):
    clock.set_now(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))
    user = make_user()
    for _ in range(4):  # the free failures of (account, Alice), and one more
        sign_in(browser(proxied, ALICE), user.email, WRONG)
    assert sign_in(browser(proxied, ALICE), user.email) == 429  # Alice waits ...
    assert sign_in(browser(proxied, BOB), user.email) == 302  # ... Bob is not her
    # Alice cannot pass as Bob by writing his address first: the balancer appends hers.
    assert sign_in(browser(proxied, f"{BOB}, {ALICE}"), user.email) == 429


def test_session_protection_sees_the_forwarded_address(proxied: Flask, make_user):
    user = make_user()
    alice = browser(proxied, ALICE)
    assert sign_in(alice, user.email) == 302 and signed_in(alice)
    # What the client adds in front of the balancer's entry changes nothing ...
    alice.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.99, {ALICE}"
    assert signed_in(alice)
    # ... a different client address behind the balancer is another place: strong
    # protection ends the session (the cookie replayed elsewhere).
    alice.environ_base["HTTP_X_FORWARDED_FOR"] = BOB
    assert not signed_in(alice)


def test_without_a_trusted_proxy_a_forwarded_header_counts_for_nothing(app: Flask, make_user):
    user = make_user()
    client = browser(app, None, remote=ALICE)
    assert sign_in(client, user.email) == 302 and signed_in(client)
    client.environ_base["HTTP_X_FORWARDED_FOR"] = BOB  # invented by the client
    assert signed_in(client)
    client.environ_base["REMOTE_ADDR"] = BOB  # really elsewhere
    assert not signed_in(client)


def test_csrf_tokens_need_no_address(proxied: Flask, make_user):
    """A form served to Alice through the balancer is accepted from her again."""
    make_user(email="csrf@rete-milano.test")
    client = browser(proxied, ALICE)
    token = csrf_token(client, "/account/login")
    response = client.post(
        "/account/login",
        data={"csrf_token": token, "email": "csrf@rete-milano.test", "password": PASSWORD},
    )
    assert response.status_code == 302
