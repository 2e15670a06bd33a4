"""Administration: account and organisation creation, role labels, access and CSRF."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import db
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.organisations.models import Organisation
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form

ADMIN_PAGES = [
    "/admin/users/",
    "/admin/users/new",
    "/admin/organisations/",
    "/admin/organisations/new",
    "/admin/privacy/controller",
]


@pytest.fixture
def admin_client(app: Flask, make_user):
    admin = make_user(roles=(Role.ADMIN,), name="Anna Amministratrice")
    client = app.test_client()
    login(client, admin.email)
    return client


@pytest.mark.parametrize("who", ["operator", "referent"])
def test_only_admins_reach_admin_pages(app: Flask, make_user, who: str):
    person = make_user(org="CDM-PL-NTDM", referent=who == "referent")
    client = app.test_client()
    login(client, person.email)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    assert client.get(f"/admin/organisations/{org.id}/edit").status_code == 403


def test_role_labels_instead_of_codes(admin_client, make_user):
    trainer = make_user(roles=(Role.TRAINER, Role.COORDINATOR), name="Teresa Formatrice")
    page = admin_client.get(f"/admin/users/{trainer.id}").get_data(as_text=True)
    assert "Coordinamento di rete" in page and "Formatrice o formatore" in page
    assert ">coordinator<" not in page and ">trainer<" not in page
    listing = admin_client.get("/admin/users/").get_data(as_text=True)
    assert "Amministrazione" in listing and ">admin<" not in listing
    assert "persone" in listing  # the count, with its plural


def test_create_user_sends_invitation(admin_client, outbox):
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    response = post_form(
        admin_client,
        "/admin/users/new",
        {
            "full_name": "Nadia Nuova",
            "email": "Nadia.Nuova@rete-milano.test",
            "role": "",
            "organisation": str(org.id),
            "audience": "polizia_locale",
            "is_referent": "y",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nadia.nuova@rete-milano.test"))
    assert user is not None and user.password_hash is None
    assert outbox.links("http://lms.test/account/invitation/")
    body = outbox.messages()[-1].get_content()
    assert org.name in body and "/o" not in body
    created = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "account.created", AuditEntry.subject_id == user.id
        )
    )
    assert created is not None


def test_create_user_with_role_and_no_organisation(admin_client, outbox):
    post_form(
        admin_client,
        "/admin/users/new",
        {"full_name": "Franca Formatrice", "email": "franca@rete-milano.test", "role": "trainer"},
    )
    user = db.session.scalar(select(User).where(User.email == "franca@rete-milano.test"))
    assert user is not None and user.role_names == {"trainer"}
    assert "ti invita sulla piattaforma" in outbox.messages()[-1].get_content()


def test_create_user_duplicate_email_keeps_the_form(admin_client, make_user, outbox):
    existing = make_user(email="gia@rete-milano.test")
    before = db.session.scalar(select(func.count(User.id)))
    response = post_form(
        admin_client,
        "/admin/users/new",
        {"full_name": "Altra Persona", "email": "GIA@rete-milano.test", "role": "trainer"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Esiste già un account con l&#39;indirizzo gia@rete-milano.test" in page
    assert 'value="Altra Persona"' in page  # nothing typed is lost
    assert db.session.scalar(select(func.count(User.id))) == before
    assert not db.session.get(User, existing.id).role_names
    assert not outbox.messages()


def test_create_user_referent_needs_an_organisation(admin_client):
    response = post_form(
        admin_client,
        "/admin/users/new",
        {"full_name": "Rita", "email": "rita@rete-milano.test", "is_referent": "y"},
    )
    assert response.status_code == 200
    assert "deve far parte di un ente" in response.get_data(as_text=True)


def test_new_forms_refuse_missing_csrf(admin_client):
    for url, data in [
        ("/admin/users/new", {"full_name": "X Y", "email": "xy@rete-milano.test"}),
        ("/admin/organisations/new", {"name": "Ente X", "code": "ENTE-X", "type": "altro"}),
        ("/admin/privacy/controller", {"controller_name": "Comune"}),
    ]:
        response = admin_client.post(url, data=data)
        assert response.status_code in (400, 200), url
    assert db.session.scalar(select(User).where(User.email == "xy@rete-milano.test")) is None
    assert db.session.scalar(select(Organisation).where(Organisation.code == "ENTE-X")) is None


def test_create_rename_and_deactivate_organisation(admin_client):
    response = post_form(
        admin_client,
        "/admin/organisations/new",
        {"name": "Centro di Prova", "code": "cav-prova", "type": "cav", "signatory": ""},
    )
    assert response.status_code == 302
    org = organisation_by_code(db.session, "CAV-PROVA")
    assert org.type == "cav" and org.signatory is False and org.active
    url = f"/admin/organisations/{org.id}/edit"
    post_form(admin_client, url, {"name": "Centro Rinominato", "type": "cav"})
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    assert org.name == "Centro Rinominato" and not org.active
    listing = admin_client.get("/admin/organisations/").get_data(as_text=True)
    assert "Centro Rinominato" in listing and "Disattivato" in listing


def test_organisation_validation(admin_client):
    existing = organisation_by_code(db.session, "CDM-PL-NTDM")
    dup_code = post_form(
        admin_client,
        "/admin/organisations/new",
        {"name": "Un altro ente", "code": "CDM-PL-NTDM", "type": "comune"},
    )
    assert "Esiste già un ente con il codice CDM-PL-NTDM" in dup_code.get_data(as_text=True)
    dup_name = post_form(
        admin_client,
        "/admin/organisations/new",
        {"name": existing.name.upper(), "code": "NUOVO", "type": "comune"},
    )
    assert "Esiste già un ente con il nome" in dup_name.get_data(as_text=True)
    bad = post_form(
        admin_client,
        "/admin/organisations/new",
        {"name": "Ente", "code": "con spazi!", "type": "comune"},
    )
    assert "lettere maiuscole" in bad.get_data(as_text=True)
    assert admin_client.get("/admin/organisations/999999/edit").status_code == 404


def test_seed_cli_still_works_after_an_admin_creates_one(app: Flask, admin_client):
    post_form(
        admin_client,
        "/admin/organisations/new",
        {"name": "Ente Aggiunto", "code": "AGGIUNTO", "type": "altro"},
    )
    result = app.test_cli_runner().invoke(args=["lms", "seed-organisations"])
    assert result.exit_code == 0, result.output
    assert organisation_by_code(db.session, "AGGIUNTO").name == "Ente Aggiunto"
