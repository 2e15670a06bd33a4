"""Privacy contract coverage, personal-data export, erasure that keeps the aggregates."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from courses.enrolment import enrol
from courses.models import CourseCompletion, EnrolmentSource
from lms import db, privacy
from lms.accounts.models import Role, User
from lms.errors import ServiceError
from quizzes.models import Attempt
from tests.conftest import login, post_form
from tests.quizzes.helpers import quiz_course_files
from tests.quizzes.test_stats import _answer


def test_every_table_with_personal_data_is_covered(app: Flask):
    with app.app_context():
        assert privacy.uncovered_tables() == set()


def test_a_plugin_that_forgets_its_tables_is_caught(app: Flask):
    """The coverage check is real: remove a provider and its tables show up."""
    state = app.extensions["lms"]
    quizzes = state.plugin("quizzes")
    original = quizzes.privacy
    quizzes.privacy = lambda: None
    try:
        with app.app_context():
            assert "quizzes_attempt" in privacy.uncovered_tables()
    finally:
        quizzes.privacy = original


@pytest.fixture
def learner_with_history(app: Flask, make_user, make_course):
    with app.app_context():
        user = make_user(org="CDM-PL-NTDM", name="Giulia Riservata")
        version = make_course(quiz_course_files())
        enrol(db.session, user, version, source=EnrolmentSource.SELF)
        from quizzes import attempts as service

        module = version.modules[0]
        attempt = service.start_attempt(db.session, user, version, module)
        service.submit_attempt(
            db.session,
            user,
            attempt.id,
            _answer(
                attempt,
                {
                    "codice": "Codice giallo",
                    "garanzie": ["Stanza dedicata", "Figli con la madre"],
                    "obi": "Vero",
                    "strumento": "risposta segreta da5",
                },
            ),
        )
        db.session.commit()
        return user


def test_user_downloads_own_data(app: Flask, learner_with_history):
    user = learner_with_history
    client = app.test_client()
    login(client, user.email)
    response = client.get("/account/data.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["core"]["profile"]["email"] == user.email
    assert data["core"]["memberships"][0]["audience"] == "polizia_locale"
    assert data["courses"]["enrolments"][0]["course"] == "corso-quiz"
    assert data["courses"]["completions"][0]["version"] == 1
    assert data["quizzes"]["attempts"][0]["passed"] is True
    assert any(e["action"] == "login" for e in data["core"]["activity_log"])
    summary = client.get("/account/data.html").get_data(as_text=True)
    assert "Giulia Riservata" in summary and "corso-quiz" in summary


def test_admin_exports_on_request_others_cannot(app: Flask, learner_with_history, make_user):
    admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, admin.email)
    response = client.get(f"/admin/users/{learner_with_history.id}/data.json")
    assert (
        json.loads(response.get_data(as_text=True))["core"]["profile"]["id"]
        == learner_with_history.id
    )
    operator = app.test_client()
    login(operator, make_user().email)
    assert operator.get(f"/admin/users/{learner_with_history.id}/data.json").status_code == 403


def test_erasure_pseudonymises_and_keeps_aggregates(app: Flask, learner_with_history, make_user):
    user = learner_with_history
    admin = make_user(roles=(Role.ADMIN,))
    attempts_before = db.session.scalar(select(func.count(Attempt.id)))
    completions_before = db.session.scalar(select(func.count(CourseCompletion.id)))
    client = app.test_client()
    login(client, admin.email)
    page = f"/admin/users/{user.id}"
    wrong = post_form(
        client,
        page + "/erase",
        {"confirm_email": "altro@rete-milano.test"},
        form_url=page,
        follow_redirects=True,
    )
    assert "Per confermare" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).full_name == "Giulia Riservata"
    post_form(client, page + "/erase", {"confirm_email": user.email}, form_url=page)
    db.session.expire_all()
    erased = db.session.get(User, user.id)
    assert erased.full_name == privacy.ERASED_NAME and not erased.active
    assert "giulia" not in erased.email and erased.password_hash is None
    assert db.session.scalar(select(func.count(Attempt.id))) == attempts_before
    assert db.session.scalar(select(func.count(CourseCompletion.id))) == completions_before
    assert login(app.test_client(), user.email).status_code == 401
    from certificates.models import Certificate

    cert = db.session.scalar(select(Certificate).where(Certificate.user_id == user.id))
    assert cert.revoked_at is not None and "Giulia" not in cert.holder_name
    verify_page = app.test_client().get(f"/certificates/verify/{cert.code}")
    assert "Giulia" not in verify_page.get_data(as_text=True)
    from lms.audit import AuditEntry

    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "privacy.erased", AuditEntry.subject_id == user.id
            )
        )
        == 1
    )


def test_erasure_refuses_self_and_repeats(app: Flask, make_user):
    admin = make_user(roles=(Role.ADMIN,))
    with app.app_context():
        with pytest.raises(ServiceError):
            privacy.erase_user(db.session, admin.id, actor=admin, confirm_email=admin.email)
        person = make_user()
        privacy.erase_user(db.session, person.id, actor=admin, confirm_email=person.email)
        with pytest.raises(ServiceError, match="già stata cancellata"):
            privacy.erase_user(
                db.session,
                person.id,
                actor=admin,
                confirm_email=db.session.get(User, person.id).email,
            )


def test_privacy_notice_is_public_and_admin_editable(app: Flask, make_user):
    anonymous = app.test_client()
    page = anonymous.get("/privacy").get_data(as_text=True)
    assert "Titolare del trattamento" in page and "cookie tecnici" in page
    assert 'href="/privacy"' in anonymous.get("/account/login").get_data(as_text=True)
    admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, admin.email)
    post_form(
        client, "/admin/privacy", {"text": "## Titolare\n\nComune di Milano <script>x</script>"}
    )
    html = anonymous.get("/privacy").get_data(as_text=True)
    assert "Comune di Milano" in html and "<script>x" not in html
