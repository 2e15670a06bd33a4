"""The unit tree's pages, used as referents would: an ASST's referent builds ASST →
hospitals → departments; a hospital's referent follows their hospital only."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lms import db
from lms.accounts.models import Role
from lms.organisations.models import Membership, OrganisationUnit
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form

ASST = "ASST-SSPC"


def _org_id(code: str = ASST) -> int:
    return organisation_by_code(db.session, code).id


def _base(code: str = ASST) -> str:
    return f"/organisations/{_org_id(code)}/units/"


def _unit(name: str) -> OrganisationUnit:
    db.session.expire_all()
    unit = db.session.scalar(select(OrganisationUnit).where(OrganisationUnit.name == name))
    assert unit is not None, name
    return unit


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _create(client: FlaskClient, name: str, parent: OrganisationUnit | None = None) -> object:
    url = _base() + "new"
    return post_form(client, url, {"name": name, "parent": str(parent.id) if parent else ""})


def _flash(client: FlaskClient) -> str:
    return client.get(_base()).get_data(as_text=True)


def _tree(client: FlaskClient) -> tuple[OrganisationUnit, OrganisationUnit, OrganisationUnit]:
    """ASST Santi Paolo e Carlo → Ospedale San Paolo, Ospedale San Carlo → departments."""
    for name in ("Ospedale San Paolo", "Ospedale San Carlo"):
        assert _create(client, name).status_code == 302
    paolo, carlo = _unit("Ospedale San Paolo"), _unit("Ospedale San Carlo")
    assert _create(client, "Pronto soccorso", paolo).status_code == 302
    assert _create(client, "Ginecologia", carlo).status_code == 302
    return paolo, carlo, _unit("Pronto soccorso")


@pytest.fixture
def referent(make_user):
    return make_user(org=ASST, referent=True, audience="sanitario", name="Referente ASST")


def test_an_organisation_referent_builds_renames_moves_and_closes(app: Flask, referent, make_user):
    client = _signed_in(app, referent.email)
    paolo, carlo, ps = _tree(client)
    assert ps.parent_id == paolo.id and ps.path == f"{paolo.path}{ps.id}/"
    page = client.get(_base()).get_data(as_text=True)
    # An indented list: the department inside its hospital's item.
    assert re.search(r"Ospedale San Paolo</strong>.*?<ul>.*?Pronto soccorso</strong>", page, re.S)

    # Rename.
    url = f"{_base()}{ps.id}/rename"
    assert 'value="Pronto soccorso"' in client.get(url).get_data(as_text=True)
    assert post_form(client, url, {"name": "Pronto soccorso generale"}).status_code == 302
    assert _unit("Pronto soccorso generale").id == ps.id

    # Move: under its own child refused with the service's message, elsewhere done.
    move = f"{_base()}{paolo.id}/move"
    refused = post_form(client, move, {"parent": str(ps.id)})
    assert refused.status_code == 200
    assert "non può stare sotto sé stessa o sotto una sua unità" in refused.get_data(as_text=True)
    assert _unit("Ospedale San Paolo").parent_id is None
    assert post_form(client, f"{_base()}{ps.id}/move", {"parent": str(carlo.id)}).status_code == 302
    moved = _unit("Pronto soccorso generale")
    assert moved.parent_id == carlo.id and moved.path == f"{carlo.path}{ps.id}/"

    # Close: refused while someone works there, done once they moved.
    nurse = make_user(org=ASST, audience="sanitario", name="Infermiera Bianchi")
    people = _base() + "people"
    assert post_form(client, people, {"person": str(nurse.id), "unit": str(ps.id)}).status_code == (
        302
    )
    close = f"{_base()}{ps.id}/close"
    assert "Sì, chiudi" in client.get(close).get_data(as_text=True)
    post_form(client, close, {})
    assert "lavorano ancora 1 persone" in _flash(client)
    assert _unit("Pronto soccorso generale").closed_at is None
    post_form(client, people, {"person": str(nurse.id), "unit": str(carlo.id)})
    post_form(client, close, {})
    assert _unit("Pronto soccorso generale").closed_at is not None
    page = client.get(_base()).get_data(as_text=True)
    closed = page.split("Unità chiuse", 1)[1]
    assert "Ospedale San Carlo / Pronto soccorso generale" in closed
    # Counts of current members per unit.
    assert re.search(r"Ospedale San Carlo</strong>\s*<span class=\"meta\">1 persona", page)


def test_a_hospital_referent_sees_and_changes_their_subtree_only(app: Flask, referent, make_user):
    paolo, carlo, ps = _tree(_signed_in(app, referent.email))
    head = make_user(org=ASST, audience="sanitario", name="Direttrice San Paolo")
    manager = _signed_in(app, referent.email)
    post_form(
        manager,
        _base() + "people",
        {"person": str(head.id), "unit": str(paolo.id), "is_referent": "y"},
    )
    membership = db.session.scalar(select(Membership).where(Membership.user_id == head.id))
    assert membership.is_referent and membership.unit_id == paolo.id

    client = _signed_in(app, head.email)
    page = client.get(_base()).get_data(as_text=True)
    assert "Ospedale San Paolo" in page and "Pronto soccorso" in page
    assert "Ospedale San Carlo" not in page and "Ginecologia" not in page
    # The other hospital's pages do not exist for them; their own unit they cannot change.
    for action in ("rename", "move", "close"):
        assert client.get(f"{_base()}{carlo.id}/{action}").status_code == 404
        assert client.get(f"{_base()}{paolo.id}/{action}").status_code == 403
        assert client.get(f"{_base()}{ps.id}/{action}").status_code == 200
    assert client.get(f"{_base()}999999/rename").status_code == 404
    # Creating: inside their hospital only; a forged parent outside is refused.
    form = client.get(_base() + "new").get_data(as_text=True)
    assert "Ospedale San Carlo" not in form and "unità principale" not in form
    assert _create(client, "Cardiologia", paolo).status_code == 302
    assert _unit("Cardiologia").parent_id == paolo.id
    for parent in (carlo, None):
        assert _create(client, "Fuori", parent).status_code == 200
    assert db.session.scalar(select(OrganisationUnit).where(OrganisationUnit.name == "Fuori")) is (
        None
    )
    # Renaming inside the subtree works; moving out of it is refused.
    assert post_form(client, f"{_base()}{ps.id}/rename", {"name": "PS"}).status_code == 302
    assert post_form(client, f"{_base()}{ps.id}/move", {"parent": str(carlo.id)}).status_code == (
        200
    )
    assert _unit("PS").parent_id == paolo.id
    # They place people of their subtree, but never make referents.
    nurse = make_user(org=ASST, audience="sanitario", name="Infermiere Verdi")
    post_form(manager, _base() + "people", {"person": str(nurse.id), "unit": str(paolo.id)})
    assert "Infermiere Verdi" in client.get(_base() + "people").get_data(as_text=True)
    post_form(
        client,
        _base() + "people",
        {"person": str(nurse.id), "unit": str(ps.id), "is_referent": "y"},
    )
    placed = db.session.scalar(select(Membership).where(Membership.user_id == nurse.id))
    db.session.refresh(placed)
    assert placed.unit_id == ps.id and not placed.is_referent
    # People outside their subtree are not offered to them.
    assert "Referente ASST" not in client.get(_base() + "people").get_data(as_text=True)


def test_outsiders_get_403_and_foreign_units_404(app: Flask, referent, make_user):
    paolo, _carlo, _ps = _tree(_signed_in(app, referent.email))
    other = make_user(org="ASST-NIGUARDA", referent=True, audience="sanitario")
    client = _signed_in(app, other.email)
    for url in (_base(), _base() + "new", f"{_base()}{paolo.id}/rename", _base() + "people"):
        assert client.get(url).status_code == 403
    # Their own organisation's pages do not reach a unit of another organisation.
    foreign = f"{_base('ASST-NIGUARDA')}{paolo.id}/rename"
    assert client.get(foreign).status_code == 404
    staff = make_user(org=ASST, audience="sanitario")
    assert _signed_in(app, staff.email).get(_base()).status_code == 403
    admin = make_user(roles=(Role.ADMIN,))
    assert _signed_in(app, admin.email).get(f"{_base()}{paolo.id}/move").status_code == 200


def test_posts_need_the_csrf_token(app: Flask, referent):
    client = _signed_in(app, referent.email)
    assert client.post(_base() + "new", data={"name": "Senza token", "parent": ""}).status_code == (
        400
    )
    assert (
        db.session.scalar(select(OrganisationUnit).where(OrganisationUnit.name == "Senza token"))
        is None
    )


def test_only_admins_name_referents_of_the_whole_organisation(app: Flask, referent, make_user):
    nurse = make_user(org=ASST, audience="sanitario", name="Infermiera Neri")
    client = _signed_in(app, referent.email)
    post_form(client, _base() + "people", {"person": str(nurse.id), "unit": "", "is_referent": "y"})
    membership = db.session.scalar(select(Membership).where(Membership.user_id == nurse.id))
    assert not membership.is_referent
    admin = make_user(roles=(Role.ADMIN,))
    post_form(
        _signed_in(app, admin.email),
        _base() + "people",
        {"person": str(nurse.id), "unit": "", "is_referent": "y"},
    )
    db.session.refresh(membership)
    assert membership.is_referent and membership.unit_id is None
