"""Role checks and organisation scoping."""

from __future__ import annotations

from flask import Flask

from lms import db
from lms.accounts.models import Role
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form


def org_id(code: str) -> int:
    return organisation_by_code(db.session, code).id


def test_referent_sees_own_organisation_only(app: Flask, make_user):
    referent_a = make_user(org="CDM-PL-NTDM", referent=True)
    make_user(org="ASST-NIGUARDA", name="Infermiera Riservata")
    client = app.test_client()
    login(client, referent_a.email)
    own = client.get(f"/organisations/{org_id('CDM-PL-NTDM')}/")
    assert own.status_code == 200
    other = client.get(f"/organisations/{org_id('ASST-NIGUARDA')}/")
    assert other.status_code == 403
    assert "Infermiera Riservata" not in other.get_data(as_text=True)
    listing = client.get("/organisations/").get_data(as_text=True)
    assert "Polizia Locale" in listing and "Niguarda" not in listing


def test_referent_cannot_invite_into_or_remove_from_another_organisation(
    app: Flask, make_user, outbox
):
    referent_a = make_user(org="CDM-PL-NTDM", referent=True)
    staff_b = make_user(org="ASST-NIGUARDA")
    client = app.test_client()
    login(client, referent_a.email)
    own_page = f"/organisations/{org_id('CDM-PL-NTDM')}/"
    invite = post_form(
        client,
        f"/organisations/{org_id('ASST-NIGUARDA')}/",
        {"full_name": "X Y", "email": "xy@rete-milano.test", "audience": "triage_asst"},
        form_url=own_page,
    )
    assert invite.status_code == 403
    remove = post_form(
        client,
        f"/organisations/{org_id('ASST-NIGUARDA')}/members/{staff_b.id}/remove",
        {},
        form_url=own_page,
    )
    assert remove.status_code == 403
    assert outbox.messages() == []


def test_referent_cannot_remove_someone_not_in_own_organisation(app: Flask, make_user):
    referent_a = make_user(org="CDM-PL-NTDM", referent=True)
    staff_b = make_user(org="ASST-NIGUARDA")
    client = app.test_client()
    login(client, referent_a.email)
    page = f"/organisations/{org_id('CDM-PL-NTDM')}/"
    response = post_form(
        client, f"{page}members/{staff_b.id}/remove", {}, form_url=page, follow_redirects=True
    )
    assert "Persona non trovata" in response.get_data(as_text=True)


def test_removing_a_member_keeps_history(app: Flask, make_user):
    from sqlalchemy import select

    from lms.organisations.models import Membership

    referent = make_user(org="CDM-PL-NTDM", referent=True)
    staff = make_user(org="CDM-PL-NTDM", name="Agente Uscente")
    client = app.test_client()
    login(client, referent.email)
    page = f"/organisations/{org_id('CDM-PL-NTDM')}/"
    post_form(client, f"{page}members/{staff.id}/remove", {}, form_url=page)
    client.get(page)  # the message saying who was removed
    assert "Agente Uscente" not in client.get(page).get_data(as_text=True)
    db.session.expire_all()
    row = db.session.scalar(select(Membership).where(Membership.user_id == staff.id))
    assert row is not None and row.ended_at is not None


def test_operator_has_no_organisation_pages(app: Flask, make_user):
    operator = make_user(org="CDM-PL-NTDM")
    client = app.test_client()
    login(client, operator.email)
    assert client.get("/organisations/").status_code == 403
    assert client.get(f"/organisations/{org_id('CDM-PL-NTDM')}/").status_code == 403


def test_coordinator_sees_counts_but_no_named_staff(app: Flask, make_user):
    coordinator = make_user(roles=(Role.COORDINATOR,))
    make_user(org="CDM-PL-NTDM", name="Nome Riservato")
    client = app.test_client()
    login(client, coordinator.email)
    listing = client.get("/organisations/")
    assert listing.status_code == 200
    assert "Nome Riservato" not in listing.get_data(as_text=True)
    assert client.get(f"/organisations/{org_id('CDM-PL-NTDM')}/").status_code == 403


def test_admin_manages_any_organisation_and_names_referents(app: Flask, make_user):
    admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, admin.email)
    page = f"/organisations/{org_id('ASST-NIGUARDA')}/"
    assert client.get(page).status_code == 200
    post_form(
        client,
        page,
        {
            "full_name": "Nuova Referente",
            "email": "nr@rete-milano.test",
            "audience": "triage_asst",
            "is_referent": "y",
        },
    )
    from lms.accounts.services import get_user_by_email
    from lms.organisations.policy import referent_organisation_ids

    new_referent = get_user_by_email(db.session, "nr@rete-milano.test")
    assert referent_organisation_ids(new_referent) == {org_id("ASST-NIGUARDA")}


def test_referent_cannot_make_a_referent(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    client = app.test_client()
    login(client, referent.email)
    page = f"/organisations/{org_id('CDM-PL-NTDM')}/"
    post_form(
        client,
        page,
        {
            "full_name": "Aspirante",
            "email": "asp@rete-milano.test",
            "audience": "polizia_locale",
            "is_referent": "y",
        },
    )
    from lms.accounts.services import get_user_by_email
    from lms.organisations.policy import referent_organisation_ids

    assert referent_organisation_ids(get_user_by_email(db.session, "asp@rete-milano.test")) == set()


def test_anonymous_is_sent_to_login(client):
    response = client.get("/organisations/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_every_route_declares_its_access(app: Flask):
    from lms.authz import access_of

    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.endswith("static")
        and access_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == []
