"""The controller's details: entered by the admin, shown in the notice, missing ones said."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lms import db
from lms.accounts.models import Role
from lms.audit import AuditEntry
from tests.conftest import login, post_form

FILLED = {
    "controller_name": "Comune di Milano",
    "controller_address": "Piazza della Scala 2, Milano",
    "controller_email": "titolare@comune.milano.test",
    "dpo_name": "Ufficio RPD",
    "dpo_email": "rpd@comune.milano.test",
}


def admin_client(app: Flask, make_user):
    admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, admin.email)
    return client


def test_unconfigured_notice_says_so_and_admin_is_warned(app: Flask, make_user):
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "non ha ancora indicato il titolare del trattamento" in page
    assert "da completare" not in page
    client = admin_client(app, make_user)
    home = client.get("/admin/users/").get_data(as_text=True)
    assert "Informativa sulla privacy incompleta" in home
    assert "/admin/privacy/controller" in home


def test_filled_details_are_shown_and_the_warning_goes(app: Flask, make_user):
    client = admin_client(app, make_user)
    response = post_form(client, "/admin/privacy/controller", FILLED)
    assert response.status_code == 302
    page = app.test_client().get("/privacy").get_data(as_text=True)
    for value in FILLED.values():
        assert value in page
    assert 'href="mailto:rpd@comune.milano.test"' in page
    assert "non ha ancora indicato" not in page and "da completare" not in page
    home = client.get("/admin/users/").get_data(as_text=True)
    assert "Informativa sulla privacy incompleta" not in home
    changed = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "privacy.controller_changed")
    ).all()
    assert len(changed) == 1


def test_partly_filled_names_what_is_missing(app: Flask, make_user):
    client = admin_client(app, make_user)
    post_form(client, "/admin/privacy/controller", {"controller_name": "Comune di Milano"})
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "Comune di Milano" in page
    assert "Non ancora indicato" in page
    home = client.get("/admin/users/").get_data(as_text=True)
    assert "Informativa sulla privacy incompleta" in home and "E-mail del Responsabile" in home


def test_invalid_email_is_refused_and_text_is_escaped(app: Flask, make_user):
    client = admin_client(app, make_user)
    bad = post_form(
        client,
        "/admin/privacy/controller",
        {**FILLED, "dpo_email": "non-una-mail", "controller_name": "<b>Ente</b>"},
    )
    assert bad.status_code == 200 and "Indirizzo e-mail non valido" in bad.get_data(as_text=True)
    post_form(client, "/admin/privacy/controller", {**FILLED, "controller_name": "<b>Ente</b>"})
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "&lt;b&gt;Ente&lt;/b&gt;" in page and "<b>Ente</b>" not in page


def test_controller_form_needs_csrf(app: Flask, make_user):
    client = admin_client(app, make_user)
    client.post("/admin/privacy/controller", data=FILLED)
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "Comune di Milano" not in page.split("controller-heading", 1)[1].split("</section>")[0]


def test_operator_and_referent_cannot_edit(app: Flask, make_user):
    for person in (make_user(org="CDM-PL-NTDM"), make_user(org="CDM-PL-NTDM", referent=True)):
        client = app.test_client()
        login(client, person.email)
        assert client.get("/admin/privacy/controller").status_code == 403
        assert client.post("/admin/privacy/controller", data=FILLED).status_code in (400, 403)
