"""The audit log page: labels, names for admins only, filters, bounded pagination."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from lms import audit, clock, db
from lms.accounts.models import Role
from lms.organisations.services import organisation_by_code
from lms.plugins import Plugin
from tests.conftest import login


def table(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def rows(page: str) -> int:
    return table(page).count("<tr>")


@pytest.fixture
def admin(make_user):
    return make_user(roles=(Role.ADMIN,), name="Anna Amministratrice")


def signed_in(app: Flask, user) -> object:
    client = app.test_client()
    login(client, user.email)
    return client


def test_labels_and_fallback():
    assert audit.action_label("commitments.matrix_exported") == "Esportata la matrice degli impegni"
    assert audit.action_label("nobody.knows_this") == "nobody.knows_this"
    assert audit.role_label("referent") == "Referente"
    assert audit.role_label("strange") == "strange"


def test_plugins_contribute_labels(app: Flask):
    class Labelled(Plugin):
        name = "labelled"
        audit_labels = {"labelled.did_it": "Fatto dal plugin"}

    plugins = app.extensions["lms"].plugins
    plugins.append(Labelled())
    try:
        with app.app_context():
            assert audit.action_label("labelled.did_it") == "Fatto dal plugin"
            assert ("labelled.did_it", "Fatto dal plugin") in audit.action_choices()
    finally:
        plugins.pop()


def test_names_and_labels_for_the_admin(app: Flask, admin, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True, name="Rosa Referente")
    member = make_user(org="CDM-PL-NTDM", name="Marta Agente")
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    audit.record(
        db.session,
        "commitments.matrix_exported",
        actor=referent,
        organisation_id=org.id,
        subject_id=member.id,
    )
    db.session.commit()
    page = signed_in(app, admin).get("/admin/audit/").get_data(as_text=True)
    assert "Esportata la matrice degli impegni" in page
    assert "Rosa Referente" in page and "Marta Agente" in page
    assert f"#{referent.id}" not in page and "commitments.matrix_exported</" not in page


def test_coordinator_sees_roles_not_names(app: Flask, make_user):
    coordinator = make_user(roles=(Role.COORDINATOR,))
    referent = make_user(org="CDM-PL-NTDM", referent=True, name="Rosa Referente")
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    audit.record(db.session, "commitment.updated", actor=referent, organisation_id=org.id)
    db.session.commit()
    client = signed_in(app, coordinator)
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "Impegno formativo modificato" in page and "Referente" in page
    assert "Rosa Referente" not in page and 'name="who"' not in page
    # a name search is the admin's: the coordinator's is ignored, not answered
    searched = client.get("/admin/audit/?who=Rosa").get_data(as_text=True)
    assert "Impegno formativo modificato" in table(searched)


def test_referent_sees_own_organisation_with_names(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True, name="Rosa Referente")
    org = organisation_by_code(db.session, "CDM-PL-NTDM")
    other = organisation_by_code(db.session, "CDM-UWT")
    audit.record(db.session, "commitment.updated", actor=referent, organisation_id=org.id)
    audit.record(db.session, "commitment.created", actor=None, organisation_id=other.id)
    db.session.commit()
    page = signed_in(app, referent).get(f"/admin/organisations/{org.id}/audit/")
    text = table(page.get_data(as_text=True))
    assert "Rosa Referente" in text and "Impegno formativo creato" not in text


def test_pagination_is_bounded_and_page_two_exists(app: Flask, admin):
    base = clock.now() - dt.timedelta(days=1)
    for n in range(120):
        audit.record(db.session, "login", actor=admin, at=base + dt.timedelta(seconds=n))
    db.session.commit()
    client = signed_in(app, admin)
    first = client.get("/admin/audit/?action=login").get_data(as_text=True)
    assert rows(first) == 50 and "pagina 1 di 3" in first and "page=2" in first
    second = client.get("/admin/audit/?action=login&page=2").get_data(as_text=True)
    assert rows(second) == 50 and "pagina 2 di 3" in second
    third = client.get("/admin/audit/?action=login&page=3").get_data(as_text=True)
    assert rows(third) >= 20  # the admin's own login adds one
    assert client.get("/admin/audit/?action=login&page=4").status_code == 404


def test_filters_action_person_organisation_dates(app: Flask, admin, make_user):
    ada = make_user(org="CDM-PL-NTDM", name="Ada Uno")
    bea = make_user(org="CDM-UWT", name="Bea Due")
    org_a = organisation_by_code(db.session, "CDM-PL-NTDM")
    org_b = organisation_by_code(db.session, "CDM-UWT")
    old = clock.now() - dt.timedelta(days=40)
    audit.record(
        db.session, "role.granted", actor=admin, subject_id=ada.id, organisation_id=org_a.id, at=old
    )
    audit.record(
        db.session, "role.revoked", actor=admin, subject_id=bea.id, organisation_id=org_b.id
    )
    db.session.commit()
    client = signed_in(app, admin)

    by_action = table(client.get("/admin/audit/?action=role.granted").get_data(as_text=True))
    assert "Ada Uno" in by_action and "Bea Due" not in by_action

    page = client.get(f"/admin/audit/?person={bea.id}").get_data(as_text=True)
    assert "Solo le voci che riguardano Bea Due" in page
    by_person = table(page)
    assert "Bea Due" in by_person and "Ada Uno" not in by_person

    by_name = table(client.get("/admin/audit/?who=bea+d").get_data(as_text=True))
    assert "Bea Due" in by_name and "Ada Uno" not in by_name
    nobody = table(client.get("/admin/audit/?who=zzz-nessuno").get_data(as_text=True))
    assert "Nessuna voce." in nobody

    by_org = table(client.get(f"/admin/audit/?organisation={org_a.id}").get_data(as_text=True))
    assert "Ada Uno" in by_org and "Bea Due" not in by_org

    # "role." asks for the family of role changes (granted and revoked)
    since = (clock.today() - dt.timedelta(days=7)).isoformat()
    recent = table(client.get(f"/admin/audit/?action=role.&since={since}").get_data(as_text=True))
    assert "Bea Due" in recent and "Ada Uno" not in recent
    until = (clock.today() - dt.timedelta(days=30)).isoformat()
    older = table(client.get(f"/admin/audit/?until={until}").get_data(as_text=True))
    assert "Ada Uno" in older and "Bea Due" not in older


def test_unknown_ids_are_404(app: Flask, admin):
    client = signed_in(app, admin)
    assert client.get("/admin/audit/?person=999999").status_code == 404
    assert client.get("/admin/audit/?organisation=999999").status_code == 404
    assert client.get("/admin/audit/?organisation=abc").status_code == 404


def test_csv_keeps_every_entry(app: Flask, admin):
    for _n in range(60):
        audit.record(db.session, "logout", actor=admin)
    db.session.commit()
    body = (
        signed_in(app, admin).get("/admin/audit/?action=logout&format=csv").get_data(as_text=True)
    )
    assert len(re.findall(r",logout,", body)) == 60
