"""Open redirects through ``next=``; no user enumeration on login and password reset."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms import db
from lms.accounts.models import User
from tests.conftest import CSRF_RE, PASSWORD, post_form
from tests.security.conftest import World

# Each of these, used as a redirect target, would leave the site in some browser.
REDIRECT_PAYLOADS = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "http:/evil.example",
    "https://localhost@evil.example/",
    "//localhost.evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ｈttps://evil.example",
    "／／evil.example",
]


def is_local(location: str) -> bool:
    """Would a browser stay on this site following ``location``?"""
    if any(ord(c) < 33 or c == "\\" for c in location):
        return False  # browsers strip tabs and newlines and read "\" as "/"
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        return parts.scheme in ("http", "https") and parts.netloc == "localhost"
    return location.startswith("/") and not location.startswith("//")


def test_is_local_is_strict():
    assert is_local("/") and is_local("/organisations/?x=1") and is_local("http://localhost/a")
    assert not any(is_local(p) for p in REDIRECT_PAYLOADS)


@pytest.mark.slow  # every hostile next on every login path
def test_next_never_redirects_off_site(app: Flask, world: World):
    off_site = []
    for payload in REDIRECT_PAYLOADS:
        # 1. The login form's hidden field, filled from ?next= as after a login redirect.
        client = app.test_client()
        page = client.get("/account/login", query_string={"next": payload})
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        login = client.post(
            "/account/login",
            data={
                "csrf_token": token,
                "email": world.email("operator"),
                "password": PASSWORD,
                "next": payload,
            },
        )
        assert login.status_code == 302
        locations = {"login": login.headers["Location"]}
        # 2. The language switch, signed in and not.
        for role in ("anonymous", "operator"):
            switch = world.client(role).post(
                "/language", data={"csrf_token": world.csrf(role), "locale": "it", "next": payload}
            )
            assert switch.status_code == 302
            locations[f"language as {role}"] = switch.headers["Location"]
        off_site += [
            f"{where}: next={payload!r} -> {location!r}"
            for where, location in locations.items()
            if not is_local(location)
        ]
    assert not off_site, "\n".join(off_site)


def test_local_next_is_followed(app: Flask, world: World):
    response = post_form(
        app.test_client(),
        "/account/login",
        {"email": world.email("referent_a"), "password": PASSWORD, "next": "/organisations/"},
    )
    assert response.headers["Location"] == "/organisations/"


# --- No user enumeration ----------------------------------------------------------------


def _normalised(html: str, *addresses: str) -> str:
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    for address in addresses:
        html = html.replace(address, "ADDRESS")
    return html


def _login_answer(app: Flask, email: str) -> tuple[int, str]:
    response = post_form(
        app.test_client(), "/account/login", {"email": email, "password": "non-e-questa-1"}
    )
    return response.status_code, _normalised(response.get_data(as_text=True), email)


def test_login_answers_the_same_for_known_unknown_inactive_and_invited(app: Flask, world: World):
    inactive = db.session.get(User, world.user_id("trainer"))
    inactive.active = False
    db.session.commit()
    answers = {
        "known": _login_answer(app, world.email("operator")),
        "unknown": _login_answer(app, "nessuno@sicurezza.test"),
        "inactive": _login_answer(app, world.email("trainer")),
        "invited, no password yet": _login_answer(app, world.email("invitee")),
    }
    statuses = {name: status for name, (status, _body) in answers.items()}
    assert set(statuses.values()) == {401}, statuses
    bodies = {body for _status, body in answers.values()}
    assert len(bodies) == 1, "the login page differs between known and unknown addresses"
    assert "E-mail o password non corretti." in bodies.pop()


def _reset_answer(client: FlaskClient, email: str) -> tuple[int, str, str]:
    response = post_form(client, "/account/reset", {"email": email})
    response.close()  # the e-mail, if any, goes once the answer has been sent
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return response.status_code, response.headers["Location"], _normalised(page, email)


def test_reset_answers_the_same_for_known_and_unknown(app: Flask, world: World):
    known = _reset_answer(app.test_client(), world.email("operator"))
    unknown = _reset_answer(app.test_client(), "nessuno@sicurezza.test")
    invited = _reset_answer(app.test_client(), world.email("invitee"))
    assert known == unknown == invited
    assert known[0] == 302 and "Se l&#39;indirizzo è registrato" in known[2]
    assert len(world.outbox.messages()) == 2  # only the two real accounts got a message
