"""Staff import with a unit column: people placed in the units the file names (by name
or path), unknown and ambiguous units refused with their row, moves between units, and
files without the column untouched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commitments.staff import files as staff_files
from commitments.staff import importing as staff_import
from lms import db
from lms.audit import AuditEntry
from lms.organisations import units
from lms.organisations.models import Membership
from lms.organisations.services import organisation_by_code
from tests.commitments.helpers import ASST

FILE = (
    "email;nome;cognome;profilo;unità\r\n"
    "uno@asst.test;Anna;Uno;triage_asst;Ospedale Uno\r\n"
    "due@asst.test;Bruna;Due;triage_asst;ospedale uno / PRONTO SOCCORSO\r\n"
    "tre@asst.test;Carla;Tre;triage_asst;\r\n"
)


@pytest.fixture
def asst(app):
    with app.app_context():
        organisation = organisation_by_code(db.session, ASST)
        one = units.create_unit(db.session, organisation, "Ospedale Uno")
        two = units.create_unit(db.session, organisation, "Ospedale Due")
        units.create_unit(db.session, organisation, "Pronto soccorso", parent=one)
        units.create_unit(db.session, organisation, "Pronto soccorso", parent=two)
        db.session.commit()
        yield organisation


def _units_by_email(organisation_id: int) -> dict[str, str | None]:
    from lms.accounts.models import User
    from lms.organisations.models import OrganisationUnit

    rows = db.session.execute(
        select(User.email, OrganisationUnit.name)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(OrganisationUnit, OrganisationUnit.id == Membership.unit_id)
        .where(Membership.organisation_id == organisation_id)
    )
    return dict(rows.all())


def test_people_are_placed_by_unit_name_or_path(app, asst):
    parsed = staff_files.read_staff_file("p.csv", FILE.encode())
    assert parsed.has_units
    staff_import.apply_import(db.session, asst, parsed.rows)
    db.session.commit()
    placed = _units_by_email(asst.id)
    assert placed["uno@asst.test"] == "Ospedale Uno"
    assert placed["due@asst.test"] == "Pronto soccorso"
    assert placed["tre@asst.test"] is None  # no unit given: the organisation as a whole
    logged = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "organisations.member_placed")
    ).all()
    assert len(logged) == 2 and all(entry.subject_id for entry in logged)
    # The same file again changes nothing; a moved person is a move.
    again = staff_import.plan_import(db.session, asst, parsed.rows)
    assert {row.action for row in again.rows} == {staff_import.Action.UNCHANGED}
    moved = FILE.replace("Anna;Uno;triage_asst;Ospedale Uno", "Anna;Uno;triage_asst;Ospedale Due")
    plan = staff_import.plan_import(
        db.session, asst, staff_files.read_staff_file("p.csv", moved.encode()).rows
    )
    assert [row.action for row in plan.rows][0] is staff_import.Action.UNIT


def test_unknown_and_ambiguous_units_are_refused_with_their_row(app, asst):
    bad = (
        "email;nome;cognome;profilo;unità\r\n"
        "a@asst.test;A;A;triage_asst;Ospedale Tre\r\n"
        "b@asst.test;B;B;triage_asst;Pronto soccorso\r\n"
        'c@asst.test;C;C;triage_asst;=HYPERLINK("x")\r\n'
    )
    plan = staff_import.plan_import(
        db.session, asst, staff_files.read_staff_file("p.csv", bad.encode()).rows
    )
    messages = {error.number: error.message for error in plan.errors}
    assert "unità sconosciuta" in messages[2]
    assert "indica il percorso" in messages[3]
    assert "formula" in messages[4]
    with pytest.raises(staff_import.ImportRefused):
        staff_import.apply_import(
            db.session, asst, plan_rows := staff_files.read_staff_file("p.csv", bad.encode()).rows
        )
    assert plan_rows and _units_by_email(asst.id) == {}


def test_rows_travel_with_their_unit_through_the_signed_preview(app, asst):
    rows = staff_files.read_staff_file("p.csv", FILE.encode()).rows
    token = staff_import.sign_rows("k", asst.id, 7, rows)
    assert staff_import.read_signed_rows("k", token, asst.id, 7) == rows
