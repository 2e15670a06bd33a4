"""Reading the staff per unit: a unit referent sees their unit and those below it only,
on the dashboard, the person page and every export; an organisation referent may
narrow to a unit and still sees everyone without it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from lms import clock, db
from lms.organisations import units
from lms.organisations.services import organisation_by_code
from tests.commitments.helpers import PL, complete, make_commitment, org_id
from tests.conftest import login, membership

NORTH_NAME, NUCLEUS_NAME, SOUTH_NAME = "Agente Nord", "Agente Nucleo", "Agente Sud"


@pytest.fixture
def tree(app, make_user, two_courses):
    """Polizia Locale: Comando Nord (with Nucleo 1 below) and Comando Sud, one agent each;
    a referent of Comando Nord, a referent of Comando Sud, one of the whole organisation."""
    network, _specific = two_courses
    with app.app_context():
        make_commitment([network])
        organisation = organisation_by_code(db.session, PL)
        north = units.create_unit(db.session, organisation, "Comando Nord")
        nucleus = units.create_unit(db.session, organisation, "Nucleo 1", parent=north)
        south = units.create_unit(db.session, organisation, "Comando Sud")
        people = {}
        for key, name, unit in (
            ("north", NORTH_NAME, north),
            ("nucleus", NUCLEUS_NAME, nucleus),
            ("south", SOUTH_NAME, south),
        ):
            person = make_user(org=PL, name=name)
            units.place_member(db.session, membership(person, PL), unit)
            people[key] = person
        for key, unit in (("ref_north", north), ("ref_south", south)):
            person = make_user(org=PL, name=f"Referente {unit.name}", audience="amministrazione")
            found = membership(person, PL)
            found.is_referent = True
            units.place_member(db.session, found, unit)
            people[key] = person
        people["ref_all"] = make_user(org=PL, referent=True, audience="amministrazione")
        # One completion, in Nucleo 1, so that the counts differ between the scopes.
        complete(people["nucleus"], network, clock.now() - dt.timedelta(days=3))
        db.session.commit()
        ids = {k: v.id for k, v in people.items()}
        ids |= {"north_unit": north.id, "nucleus_unit": nucleus.id, "south_unit": south.id}
        emails = {k: v.email for k, v in people.items()}
        ids["org"] = org_id(PL)
    return ids, emails


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def test_unit_referent_sees_their_subtree_only(app, tree):
    ids, emails = tree
    client = _client(app, emails["ref_north"])
    page = client.get(f"/commitments/organisations/{ids['org']}/").get_data(as_text=True)
    assert NORTH_NAME in page and NUCLEUS_NAME in page
    assert SOUTH_NAME not in page
    # Organisation-wide actions are not offered to a unit referent.
    assert f"/commitments/organisations/{ids['org']}/import" not in page

    base = f"/commitments/organisations/{ids['org']}"
    assert client.get(f"{base}/people/{ids['nucleus']}").status_code == 200
    assert client.get(f"{base}/people/{ids['south']}").status_code == 404
    # Narrowing to a unit outside the subtree is as unknown as a made-up one.
    assert client.get(f"{base}/?unit={ids['south_unit']}").status_code == 404
    assert client.get(f"{base}/?unit=999999").status_code == 404
    narrowed = client.get(f"{base}/?unit={ids['nucleus_unit']}").get_data(as_text=True)
    assert NUCLEUS_NAME in narrowed and NORTH_NAME not in narrowed


def test_unit_referent_exports_carry_their_subtree_only(app, tree):
    ids, emails = tree
    client = _client(app, emails["ref_north"])
    base = f"/commitments/organisations/{ids['org']}"
    csv_text = client.get(f"{base}/export.csv").get_data(as_text=True)
    assert emails["north"] in csv_text and emails["nucleus"] in csv_text
    assert emails["south"] not in csv_text
    book = load_workbook(io.BytesIO(client.get(f"{base}/export.xlsx").data))
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value}
    assert emails["north"] in cells and emails["south"] not in cells
    response = client.get(f"{base}/summary.pdf")
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert SOUTH_NAME not in text


def test_unit_referent_is_refused_organisation_wide_pages(app, tree):
    ids, emails = tree
    client = _client(app, emails["ref_north"])
    base = f"/commitments/organisations/{ids['org']}"
    for path in ("import", "enrol", "import/modello.csv"):
        assert client.get(f"{base}/{path}").status_code == 403, path
    assert client.get(f"/organisations/{ids['org']}/").status_code == 403


def test_organisation_referent_sees_everyone_and_may_narrow(app, tree):
    ids, emails = tree
    client = _client(app, emails["ref_all"])
    base = f"/commitments/organisations/{ids['org']}"
    page = client.get(f"{base}/").get_data(as_text=True)
    assert NORTH_NAME in page and NUCLEUS_NAME in page and SOUTH_NAME in page
    assert "Comando Nord / Nucleo 1" in page  # the unit chooser names the path
    south = client.get(f"{base}/?unit={ids['south_unit']}").get_data(as_text=True)
    assert SOUTH_NAME in south and NORTH_NAME not in south
    csv_text = client.get(f"{base}/export.csv?unit={ids['south_unit']}").get_data(as_text=True)
    assert emails["south"] in csv_text and emails["north"] not in csv_text


def test_referent_of_a_sibling_unit_sees_nothing_of_the_other(app, tree):
    ids, emails = tree
    client = _client(app, emails["ref_south"])
    base = f"/commitments/organisations/{ids['org']}"
    page = client.get(f"{base}/").get_data(as_text=True)
    assert SOUTH_NAME in page and NORTH_NAME not in page and NUCLEUS_NAME not in page
    assert client.get(f"{base}/people/{ids['north']}").status_code == 404
    assert client.get(f"{base}/?unit={ids['north_unit']}").status_code == 404


def test_unit_referent_home_counts_their_subtree(app, tree):
    ids, emails = tree
    client = _client(app, emails["ref_north"])
    home = client.get("/").get_data(as_text=True)
    assert "Formazione del personale" in home
    # Two people in scope (Nord and Nucleo 1), not the three of the organisation.
    with app.app_context():
        from commitments.reporting.coverage import evaluate
        from commitments.rules.status import Moment
        from lms.accounts.models import User
        from lms.organisations.policy import referent_unit_ids

        referent = db.session.get(User, ids["ref_north"])
        scope = referent_unit_ids(referent, ids["org"])
        assert scope == {ids["north_unit"], ids["nucleus_unit"]}
        report = evaluate(db.session, [ids["org"]], Moment.now(), unit_ids=scope).for_organisation(
            ids["org"]
        )[0]
        assert report.in_scope == 2
