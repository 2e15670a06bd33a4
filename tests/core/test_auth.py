"""Login, logout, password change, CSRF. Throttling: test_login_throttle.py."""

from __future__ import annotations

import re

from flask import Flask

from lms import db
from lms.accounts.models import User
from tests.conftest import PASSWORD, csrf_token, login, post_form


def test_login_page_is_italian_and_accessible_markup(client):
    page = client.get("/account/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="it">' in html
    assert 'href="#main"' in html and '<main id="main"' in html
    for field in ("email", "password"):
        assert re.search(rf'<label [^>]*for="{field}"', html), field
    assert "Accedi" in html


def test_login_success_sets_session_and_last_login(client, make_user):
    user = make_user(email="Mario.Rossi@Rete-Milano.test")
    response = login(client, "MARIO.ROSSI@rete-milano.test")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Persona di Prova" in home.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


def test_login_failure_does_not_reveal_whether_account_exists(client, make_user):
    make_user(email="esiste@rete-milano.test")
    wrong_password = login(client, "esiste@rete-milano.test", "sbagliata-123456")
    unknown = login(client, "nessuno@rete-milano.test", "sbagliata-123456")
    assert wrong_password.status_code == unknown.status_code == 401
    message = "E-mail o password non corretti."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/courses/").status_code == 302


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user()
    user.active = False
    db.session.commit()
    assert login(client, user.email).status_code == 401


def test_login_without_csrf_token_is_rejected(client, make_user):
    user = make_user()
    response = client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/courses/").status_code == 302


def test_logout_requires_post_with_csrf(client, make_user):
    user = make_user()
    login(client, user.email)
    assert client.get("/account/logout").status_code == 405
    client.post("/account/logout", data={})  # no token: refused, still logged in
    assert client.get("/").status_code == 200
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/courses/").status_code == 302


def test_open_redirect_is_refused(client, make_user):
    user = make_user()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        response = post_form(
            client, "/account/login", {"email": user.email, "password": PASSWORD, "next": target}
        )
        assert response.headers["Location"] == "/", target
        client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    response = post_form(
        client,
        "/account/login",
        {"email": user.email, "password": PASSWORD, "next": "/organisations/"},
    )
    assert response.headers["Location"] == "/organisations/"


def test_password_change_ends_other_sessions(app: Flask, make_user):
    user = make_user()
    laptop, office_pc = app.test_client(), app.test_client()
    login(laptop, user.email)
    login(office_pc, user.email)
    response = post_form(
        laptop,
        "/account/password",
        {"current": PASSWORD, "password": "una-nuova-password", "confirm": "una-nuova-password"},
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200  # the session that changed it stays
    assert office_pc.get("/courses/").status_code == 302  # the other one is logged out
    assert login(app.test_client(), user.email, "una-nuova-password").status_code == 302


def test_password_change_refuses_wrong_current_and_short_password(client, make_user):
    user = make_user()
    login(client, user.email)
    wrong = post_form(
        client,
        "/account/password",
        {"current": "nope-nope-nope", "password": "abcdefghijk", "confirm": "abcdefghijk"},
    )
    assert "La password attuale non è corretta." in wrong.get_data(as_text=True)
    short = post_form(
        client, "/account/password", {"current": PASSWORD, "password": "corta", "confirm": "corta"}
    )
    assert short.status_code == 200
    assert login(client.application.test_client(), user.email).status_code == 302


def test_passwords_are_hashed(make_user):
    user = make_user()
    assert PASSWORD not in (user.password_hash or "")
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_session_cookie_flags(app: Flask, client, make_user):
    user = make_user()
    response = login(client, user.email)
    cookie = " ".join(response.headers.getlist("Set-Cookie"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # set by LMS_SECURE_COOKIES


def test_security_headers(client):
    headers = client.get("/account/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_logout_invalidates_a_copied_session_cookie(app: Flask, make_user):
    user = make_user()
    client = app.test_client()
    login(client, user.email)
    stolen = client.get_cookie("session").value
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/courses/").status_code == 302  # back to the login page
