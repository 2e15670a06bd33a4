"""Optional kinds: turned off on the preferences page or from the e-mail's own link,
for that person and that kind only; the notification still shows in the list."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask

from lms import clock, db
from notifications.models import Kind
from notifications.services import set_muted, unsubscribe_token
from tests.certificates.test_reminders import completed_for_expiry_in, remind
from tests.conftest import login, post_form, service_context
from tests.notifications.conftest import notifications_of, to

PL = "CDM-PL-NTDM"


def test_certificate_reminder_is_listed_and_mailed_with_an_unsubscribe_link(
    app: Flask, client, make_user, complete, outbox
):
    holder = make_user(org=PL, name="Agente Promemoria")
    other = make_user(org=PL, name="Agente Altra")
    complete(holder, completed_at=completed_for_expiry_in(20))
    complete(other, completed_at=completed_for_expiry_in(20))
    remind(app, "--days", "30")
    assert [n.kind for n in notifications_of(holder.id, "certificate_expiring")] == [
        "certificate_expiring"
    ]
    [mail] = to(outbox, holder.email)
    links = re.findall(r"http://lms\.test/notifications/unsubscribe/\S+", mail.get_content())
    assert len(links) == 1
    path = links[0].removeprefix("http://lms.test")

    page = client.get(path)  # a mail scanner following the link changes nothing
    assert page.status_code == 200
    with app.app_context():
        assert notifications_of(holder.id)  # still there
    response = post_form(client, path, {})
    assert response.status_code == 200 and "Fatto" in response.get_data(as_text=True)

    # Later reminders: the holder's is listed but not mailed; the other person's is mailed.
    clock.set_now(clock.now() + dt.timedelta(days=15))
    remind(app, "--days", "30,7")
    assert len(notifications_of(holder.id, "certificate_expiring")) == 2
    assert len(to(outbox, holder.email)) == 1
    assert len(to(outbox, other.email)) == 2


def test_a_token_is_for_one_person_and_one_optional_kind(app: Flask, client, make_user):
    person = make_user(org=PL)
    with app.test_request_context():
        good = unsubscribe_token(person.id, Kind.DIGEST)
        mandatory = unsubscribe_token(person.id, Kind.LATE)
    assert client.get(f"/notifications/unsubscribe/{good}x").status_code == 404
    assert client.get("/notifications/unsubscribe/nonsense").status_code == 404
    assert client.get(f"/notifications/unsubscribe/{mandatory}").status_code == 404
    post_form(client, f"/notifications/unsubscribe/{good}", {})
    from notifications.services import muted_kinds

    assert muted_kinds(db.session, person.id) == {Kind.DIGEST}


def test_preferences_page_turns_optional_mail_off_and_on(app: Flask, client, make_user):
    from notifications.services import muted_kinds

    person = make_user(org=PL)
    login(client, person.email)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('class="form-check-input"') == 3
    post_form(client, "/notifications/preferences", {"session_reminder": "y"})
    assert muted_kinds(db.session, person.id) == {Kind.CERTIFICATE_EXPIRING, Kind.DIGEST}
    post_form(
        client,
        "/notifications/preferences",
        {"session_reminder": "y", "digest": "y", "certificate_expiring": "y"},
    )
    assert muted_kinds(db.session, person.id) == set()


def test_a_muted_session_reminder_is_listed_not_mailed(app: Flask, make_user, outbox):
    from notifications.services import notify

    person = make_user(org=PL)
    with service_context(app):
        set_muted(db.session, person.id, Kind.SESSION_REMINDER, True, clock.now())
        notify(
            db.session, person, Kind.SESSION_REMINDER, key="s:1", title="Domani", now=clock.now()
        )
        db.session.commit()
    from tests.notifications.conftest import pending_mail, send

    assert pending_mail() == []
    send(app)
    assert outbox.messages() == []
    assert len(notifications_of(person.id)) == 1
