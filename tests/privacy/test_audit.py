"""Every audited action writes exactly one entry, in the same transaction; none on failure."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import audit, db
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.organisations.services import organisation_by_code
from tests.conftest import PASSWORD, csrf_token, login, post_form


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def org_id(code: str) -> int:
    return organisation_by_code(db.session, code).id


def test_login_and_failed_login(app: Flask, make_user):
    user = make_user()
    client = app.test_client()
    login(client, user.email, "wrong-password-xx")
    failed = entries("login.failed")
    assert len(failed) == 1 and failed[0].subject_id == user.id
    assert "wrong-password-xx" not in str(failed[0].details)
    login(client, user.email)
    ok = entries("login")
    assert len(ok) == 1 and ok[0].actor_id == user.id and ok[0].actor_role == "operator"


def test_password_change_and_reset(app: Flask, make_user, outbox):
    user = make_user()
    client = app.test_client()
    login(client, user.email)
    post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "password": "nuova-password-1", "confirm": "nuova-password-1"},
    )
    assert len(entries("password.changed")) == 1
    wrong = post_form(
        client,
        "/account/password",
        {"current": "sbagliata-xyz", "password": "nuova-password-2", "confirm": "nuova-password-2"},
    )
    assert wrong.status_code == 200 and len(entries("password.changed")) == 1
    anonymous = app.test_client()
    post_form(anonymous, "/account/reset", {"email": user.email}).close()  # sent after
    assert len(entries("password.reset_requested")) == 1
    post_form(anonymous, "/account/reset", {"email": "nessuno@rete-milano.test"}).close()
    assert len(entries("password.reset_requested")) == 1  # unknown address: nothing
    path = outbox.links("http://lms.test/account/reset/")[-1].removeprefix("http://lms.test")
    post_form(anonymous, path, {"password": "ancora-nuova-1", "confirm": "ancora-nuova-1"})
    assert len(entries("password.reset")) == 1


def test_membership_changes_and_invitation(app: Flask, make_user, outbox):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    client = app.test_client()
    login(client, referent.email)
    page = f"/organisations/{org_id('CDM-PL-NTDM')}/"
    added_before = len(entries("membership.added"))
    post_form(
        client,
        page,
        {
            "full_name": "Nuova Agente",
            "email": "nuova@rete-milano.test",
            "audience": "polizia_locale",
        },
    )
    added = entries("membership.added")
    assert len(added) == added_before + 1
    entry = added[-1]
    assert entry.actor_id == referent.id and entry.actor_role == "referent"
    assert entry.organisation_id == org_id("CDM-PL-NTDM")
    # A refused duplicate writes nothing.
    post_form(
        client,
        page,
        {
            "full_name": "Nuova Agente",
            "email": "nuova@rete-milano.test",
            "audience": "polizia_locale",
        },
    )
    assert len(entries("membership.added")) == added_before + 1
    invitee = app.test_client()
    link = outbox.links("http://lms.test/account/invitation/")[0].removeprefix("http://lms.test")
    post_form(invitee, link, {"password": "password-nuova-1", "confirm": "password-nuova-1"})
    assert len(entries("invitation.accepted")) == 1
    post_form(client, f"{page}members/{entry.subject_id}/remove", {}, form_url=page)
    ended = entries("membership.ended")
    assert len(ended) == 1 and ended[0].subject_id == entry.subject_id


def test_role_changes_by_admin(app: Flask, make_user):
    admin = make_user(roles=(Role.ADMIN,))
    person = make_user()
    client = app.test_client()
    login(client, admin.email)
    page = f"/admin/users/{person.id}"
    post_form(client, page + "/roles", {"role": "trainer", "action": "grant"}, form_url=page)
    post_form(client, page + "/roles", {"role": "trainer", "action": "grant"}, form_url=page)
    assert len(entries("role.granted")) == 1  # granting twice is one change
    post_form(client, page + "/roles", {"role": "trainer", "action": "revoke"}, form_url=page)
    revoked = entries("role.revoked")
    assert len(revoked) == 1 and revoked[0].details == {"role": "trainer"}


def test_course_publish_unpublish_and_referent_enrolment(app: Flask, make_user, make_course):
    trainer = make_user(roles=(Role.TRAINER,))
    with app.app_context():
        make_course(user=trainer)
    published = entries("course.published")
    assert len(published) == 1 and published[0].actor_id == trainer.id
    client = app.test_client()
    login(client, trainer.email)
    post_form(
        client, "/courses/author/corso-prova/archive", {}, form_url="/courses/author/corso-prova/"
    )
    assert len(entries("course.unpublished")) == 1
    post_form(
        client, "/courses/author/corso-prova/archive", {}, form_url="/courses/author/corso-prova/"
    )
    assert len(entries("course.republished")) == 1
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    staff = [make_user(org="CDM-PL-NTDM") for _ in range(2)]
    ref_client = app.test_client()
    login(ref_client, referent.email)
    page = f"/courses/organisations/{org_id('CDM-PL-NTDM')}/enrol"
    data = {"course": "corso-prova", "member": [str(s.id) for s in staff]}
    post_form(ref_client, page, data)
    post_form(ref_client, page, data)  # already enrolled: nothing new
    enrolled = entries("enrolment.by_referent")
    assert sorted(e.subject_id for e in enrolled) == sorted(s.id for s in staff)


@pytest.mark.usefixtures("in_app_context")  # the guard is installed on the app's sessions
def test_audit_entries_are_append_only(make_user):
    make_user()
    entry = audit.record(db.session, "test.action", details={"password": "x", "n": 1})
    db.session.commit()
    assert entry.details == {"n": 1}  # secrets never stored
    entry.action = "changed"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "test.action"


def test_referent_sees_only_own_organisation_entries(app: Flask, make_user):
    referent_a = make_user(org="CDM-PL-NTDM", referent=True)
    referent_b = make_user(org="ASST-NIGUARDA", referent=True)
    audit.record(db.session, "test.about_a", organisation_id=org_id("CDM-PL-NTDM"))
    audit.record(db.session, "test.about_b", organisation_id=org_id("ASST-NIGUARDA"))
    db.session.commit()
    client = app.test_client()
    login(client, referent_a.email)
    own = client.get(f"/admin/organisations/{org_id('CDM-PL-NTDM')}/audit/")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "test.about_a" in html and "test.about_b" not in html
    csv_text = client.get(
        f"/admin/organisations/{org_id('CDM-PL-NTDM')}/audit/?format=csv"
    ).get_data(as_text=True)
    assert "test.about_a" in csv_text and "test.about_b" not in csv_text
    assert client.get(f"/admin/organisations/{org_id('ASST-NIGUARDA')}/audit/").status_code == 403
    assert client.get("/admin/audit/").status_code == 403
    other = app.test_client()
    login(other, referent_b.email)
    assert other.get(f"/admin/organisations/{org_id('CDM-PL-NTDM')}/audit/").status_code == 403


def test_coordinator_sees_and_exports_the_whole_log(app: Flask, make_user):
    coordinator = make_user(roles=(Role.COORDINATOR,))
    audit.record(db.session, "test.network", organisation_id=org_id("QUESTURA"))
    db.session.commit()
    client = app.test_client()
    login(client, coordinator.email)
    assert "test.network" in client.get("/admin/audit/?action=test.").get_data(as_text=True)
    exported = client.get("/admin/audit/?action=test.&format=csv").get_data(as_text=True)
    assert exported.splitlines()[0].startswith("created_at,actor_id")
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "test.network")
        )
        == 1
    )
    assert csrf_token(client, "/admin/audit/")  # the page renders its forms


def test_quiz_attempt_reset_is_audited(app: Flask, make_user, make_course):
    from quizzes import attempts as service
    from tests.quizzes.helpers import quiz_course_files

    user = make_user()
    with app.app_context():
        from courses.enrolment import enrol
        from courses.models import EnrolmentSource

        version = make_course(quiz_course_files())
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        attempt = service.start_attempt(db.session, user, version, version.modules[0])
        service.submit_attempt(db.session, user, attempt.id, {})
        db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["lms", "quizzes", "reset", user.email, "corso-quiz", "triage"]
    )
    assert result.exit_code == 0 and "Tentativi annullati: 1" in result.output
    reset = entries("quiz.attempts_reset")
    assert len(reset) == 1 and reset[0].subject_id == user.id
    again = app.test_cli_runner().invoke(
        args=["lms", "quizzes", "reset", user.email, "corso-quiz", "triage"]
    )
    assert "Tentativi annullati: 0" in again.output and len(entries("quiz.attempts_reset")) == 1
