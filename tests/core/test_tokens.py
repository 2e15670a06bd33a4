"""Password reset and invitation links: signed, expiring, single-use."""

from __future__ import annotations

import time

from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from lms.accounts import services
from tests.conftest import PASSWORD, login, post_form

NEW = "nuova-password-sicura"


def _reset_link(client, outbox, email: str) -> str:
    post_form(client, "/account/reset", {"email": email}).close()  # the mail goes after
    links = outbox.links("http://lms.test/account/reset/")
    assert links, "no reset e-mail was sent"
    return links[-1].removeprefix("http://lms.test")


def test_reset_flow_sets_new_password_and_link_is_single_use(client, make_user, outbox):
    user = make_user(email="reset@rete-milano.test")
    path = _reset_link(client, outbox, "reset@rete-milano.test")
    message = outbox.messages()[-1]
    assert message["To"] == user.email and "password" in message["Subject"].lower()
    assert client.get(path).status_code == 200
    done = post_form(client, path, {"password": NEW, "confirm": NEW})
    assert done.status_code == 302
    client.post("/account/logout", data={"csrf_token": _token(client)})
    assert login(client, user.email, NEW).status_code == 302
    client.post("/account/logout", data={"csrf_token": _token(client)})
    reused = client.get(path)
    assert reused.status_code == 400
    assert "non è più valido" in reused.get_data(as_text=True)


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


def test_reset_request_does_not_reveal_unknown_addresses(client, make_user, outbox):
    make_user(email="noto@rete-milano.test")
    known = post_form(client, "/account/reset", {"email": "noto@rete-milano.test"})
    unknown = post_form(client, "/account/reset", {"email": "ignoto@rete-milano.test"})
    assert known.status_code == unknown.status_code == 302
    known.close()  # the mail is sent once the answer has gone
    unknown.close()
    assert len(outbox.messages()) == 1


def test_tampered_token_is_rejected(client, make_user, outbox):
    make_user(email="tamper@rete-milano.test")
    path = _reset_link(client, outbox, "tamper@rete-milano.test")
    token = path.rsplit("/", 1)[1]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = client.get(f"/account/reset/{forged}")
    assert response.status_code == 400
    assert "Il link non è valido." in response.get_data(as_text=True)


def test_token_signed_with_another_key_is_rejected(app: Flask, client, make_user):
    user = make_user()
    other = URLSafeTimedSerializer("another-secret", salt=services.RESET_SALT)
    token = other.dumps({"uid": user.id, "fp": "x"})
    assert client.get(f"/account/reset/{token}").status_code == 400


def test_expired_token_is_rejected(app: Flask, client, make_user, monkeypatch):
    user = make_user()
    token = services.make_token(app.config["SECRET_KEY"], services.RESET_SALT, user)
    real_time = time.time
    monkeypatch.setattr(
        time, "time", lambda: real_time() + app.config["LMS_RESET_TOKEN_MAX_AGE"] + 5
    )
    response = client.get(f"/account/reset/{token}")
    assert response.status_code == 400
    assert "scaduto" in response.get_data(as_text=True)


def test_reset_token_cannot_be_used_as_invitation(app: Flask, client, make_user):
    user = make_user()
    token = services.make_token(app.config["SECRET_KEY"], services.RESET_SALT, user)
    assert client.get(f"/account/invitation/{token}").status_code == 400


def test_referent_invites_staff_who_sets_password(app: Flask, make_user, outbox):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    client = app.test_client()
    login(client, referent.email)
    org_page = "/organisations/" + str(_org_id("CDM-PL-NTDM")) + "/"
    response = post_form(
        client,
        org_page,
        {
            "full_name": "Giulia Bianchi",
            "email": "giulia.bianchi@rete-milano.test",
            "audience": "polizia_locale",
        },
    )
    assert response.status_code == 302
    assert "Giulia Bianchi" in client.get(org_page).get_data(as_text=True)
    links = outbox.links("http://lms.test/account/invitation/")
    assert len(links) == 1
    invitee = app.test_client()
    path = links[0].removeprefix("http://lms.test")
    page = invitee.get(path)
    assert page.status_code == 200 and "giulia.bianchi@rete-milano.test" in page.get_data(
        as_text=True
    )
    mismatch = post_form(invitee, path, {"password": NEW, "confirm": NEW + "x"})
    assert "Le password non coincidono." in mismatch.get_data(as_text=True)
    assert post_form(invitee, path, {"password": NEW, "confirm": NEW}).status_code == 302
    assert "Giulia Bianchi" in invitee.get("/").get_data(as_text=True)
    assert invitee.get(path).status_code == 400  # used once


def _org_id(code: str) -> int:
    from lms import db
    from lms.organisations.services import organisation_by_code

    return organisation_by_code(db.session, code).id


def test_invited_user_cannot_log_in_before_setting_password(app: Flask, make_user):
    user = make_user(password=None)
    assert login(app.test_client(), user.email, "").status_code == 400
    assert login(app.test_client(), user.email, PASSWORD).status_code == 401
