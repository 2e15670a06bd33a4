"""The list: only one's own notifications, unknown or others' ids answer 404, read marks."""

from __future__ import annotations

from flask import Flask

from lms import clock, db
from notifications.models import Kind
from notifications.services import notify
from tests.conftest import csrf_token, login, service_context
from tests.notifications.conftest import notifications_of

PL = "CDM-PL-NTDM"


def _notify(app: Flask, user, title: str, key: str) -> int:  # noqa: ANN001
    with service_context(app):
        made = notify(
            db.session, user, Kind.ENROLLED, key=key, title=title, link="/courses/", now=clock.now()
        )
        db.session.commit()
    assert made is not None
    return made.id


def test_a_person_sees_and_marks_only_their_own(app: Flask, client, make_user):
    me = make_user(org=PL, email="me@rete-milano.test")
    other = make_user(org=PL)
    mine = _notify(app, me, "Iscrizione al corso «Mio»", "a")
    _notify(app, me, "Iscrizione al corso «Secondo»", "b")
    theirs = _notify(app, other, "Iscrizione al corso «Altrui»", "c")

    login(client, me.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Mio" in page and "Secondo" in page and "Altrui" not in page
    assert "Notifiche (2)" in client.get("/").get_data(as_text=True)

    token = csrf_token(client, "/notifications/")
    assert (
        client.post(f"/notifications/{theirs}/read", data={"csrf_token": token}).status_code == 404
    )
    assert client.post("/notifications/999999/read", data={"csrf_token": token}).status_code == 404
    assert all(n.read_at is None for n in notifications_of(other.id))

    opened = client.post(f"/notifications/{mine}/read", data={"csrf_token": token, "open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/courses/")
    assert "Notifiche (1)" in client.get("/").get_data(as_text=True)
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert all(n.read_at is not None for n in notifications_of(me.id))
    assert all(n.read_at is None for n in notifications_of(other.id))


def test_the_list_needs_a_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_loop_stops_cleanly_on_sigterm(app: Flask):
    import os
    import signal
    import threading

    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        result = app.test_cli_runner().invoke(args=["lms", "notifications", "send", "--every", "1"])
    finally:
        timer.cancel()
    assert result.exit_code == 0, result.output
    assert "fermato" in result.output
