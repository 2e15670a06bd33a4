"""Each event writes one notification while the request is answered; only the send
command mails it, once however often it runs, and a failed send is tried again."""

from __future__ import annotations

from flask import Flask

from courses.enrolment import enrol
from courses.models import EnrolmentSource
from lms import db
from lms.signals import CompletionEvent, completion_recorded
from notifications.services import deliver
from tests.conftest import login, post_form, service_context
from tests.notifications.conftest import notifications_of, pending_mail, send, to

PL = "CDM-PL-NTDM"


def test_enrolment_by_a_referent_is_written_in_the_request_and_mailed_by_send(
    app: Flask, client, make_user, course, outbox
):
    referent = make_user(org=PL, referent=True, name="Referente Rossi")
    person = make_user(org=PL, name="Agente Bianchi")
    from lms.organisations.services import organisation_by_code

    org_id = organisation_by_code(db.session, PL).id
    login(client, referent.email)
    response = post_form(
        client,
        f"/courses/organisations/{org_id}/enrol",
        {"course": course.course.slug, "member": [str(person.id)]},
    )
    assert response.status_code == 302
    # The request wrote the notification and the e-mail to send, and sent nothing.
    rows = notifications_of(person.id, "enrolled")
    assert len(rows) == 1 and "Corso delle notifiche" in rows[0].title
    assert "Referente Rossi" in rows[0].body and "/corso-notifiche" in rows[0].link
    assert len(pending_mail()) == 1
    assert outbox.messages() == []
    assert notifications_of(referent.id) == []

    first = send(app)
    assert "e-mail inviate: 1" in first.output
    mails = to(outbox, person.email)
    assert len(mails) == 1 and "Corso delle notifiche" in mails[0]["Subject"]
    body = mails[0].get_content()
    assert "http://lms.test/" in body and "corso-notifiche" in body
    assert "non ricevere più" not in body  # a mandatory kind has no unsubscribe link

    send(app)
    assert len(outbox.messages()) == 1


def test_self_enrolment_notifies_nobody(app: Flask, make_user, course, outbox):
    person = make_user(org=PL)
    with service_context(app):
        enrol(db.session, person, course, source=EnrolmentSource.SELF, by=person)
        enrol(db.session, make_user(), course, source=EnrolmentSource.SELF)
        db.session.commit()
    assert notifications_of(person.id) == []
    send(app)
    assert outbox.messages() == []


def test_a_certificate_issued_is_one_notification_and_one_mail(app: Flask, make_user, outbox):
    import datetime as dt

    from lms import clock

    person = make_user(org=PL)
    event = CompletionEvent(
        user_id=person.id,
        kind="course",
        key="course:accoglienza",
        completion_ref=f"course-completion:notifiche-{person.id}",
        title="Accoglienza delle donne",
        version_label="2026.1",
        hours=8,
        completed_at=clock.now() - dt.timedelta(hours=1),
    )
    for _ in range(2):  # the same completion twice: one certificate, one notification
        with service_context(app):  # as in the request that completes the course
            completion_recorded.send(app, session=db.session, event=event)
            db.session.commit()
    rows = notifications_of(person.id, "certificate_issued")
    assert len(rows) == 1 and "Accoglienza delle donne" in rows[0].title
    assert outbox.messages() == []
    send(app)
    send(app)
    mails = to(outbox, person.email)
    assert len(mails) == 1 and "Accoglienza delle donne" in mails[0]["Subject"]


def test_a_failed_send_stays_pending_and_goes_next_time(app: Flask, make_user, course, outbox):
    referent = make_user(org=PL, referent=True)
    person = make_user(org=PL)
    with service_context(app):
        enrol(db.session, person, course, source=EnrolmentSource.REFERENT, by=referent)
        db.session.commit()
    app.config["LMS_MAIL_BACKEND"] = "broken"
    try:
        with app.app_context():
            report = deliver(db.session)
        assert (report.sent, report.failed) == (0, 1)
        failed = app.test_cli_runner().invoke(args=["lms", "notifications", "send"])
        assert failed.exit_code == 1
    finally:
        app.config["LMS_MAIL_BACKEND"] = "file"
    [message] = pending_mail()
    assert message.attempts == 2 and "broken" in (message.last_error or "")
    send(app)
    assert len(to(outbox, person.email)) == 1
    assert pending_mail() == []
    send(app)
    assert len(outbox.messages()) == 1
