"""The administrator merges an organisation into another: people, units and every
plugin's rows move; the absorbed organisation stays, deactivated, with its history."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, func, inspect, select, text

from commitments.models import Commitment, DigestSent
from lms import audit, db
from lms.accounts.models import Role, User
from lms.errors import ServiceError
from lms.jobs import Job
from lms.organisations.merging import merge_organisations
from lms.organisations.models import Audience, Membership, Organisation, OrganisationUnit
from lms.organisations.org_references import Handling, organisation_references
from lms.organisations.policy import can_manage_organisation, referent_unit_ids
from lms.organisations.services import organisation_by_code
from lms.organisations.units import create_unit, place_member
from lms.registration.models import RegistrationRequest, RegistrationRule
from tests.conftest import _current_connection, login, post_form, service_context

TARGET, ABSORBED = "ASST-SSPC", "ASST-PINI-CTO"


def _membership(user: User, code: str) -> Membership:
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation_by_code(db.session, code).id,
        )
    )


def _pointing_at(organisation_id: int) -> dict[str, int]:
    """Rows of every table of the database (read back from it, not from the models)
    whose foreign key points at ``organisation_id``."""
    connection = _current_connection[-1]
    inspector = inspect(connection)
    found = {}
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] != "lms_organisation":
                continue
            (column,) = fk["constrained_columns"]
            count = connection.execute(
                text(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = :id'),
                {"id": organisation_id},
            ).scalar_one()
            found[f"{table}.{column}"] = count
    return found


@pytest.fixture
def absorbed_world(app: Flask, make_user):
    """The absorbed ASST: a referent, staff inside and outside its units, a unit referent,
    a former member, a person in both organisations, and rows of several plugins."""
    target = organisation_by_code(db.session, TARGET)
    absorbed = organisation_by_code(db.session, ABSORBED)
    people = {
        "both": make_user(org=TARGET, audience="sanitario", name="In Entrambi"),
        "referent": make_user(org=ABSORBED, referent=True, audience="sanitario", name="Ref Pini"),
        "staff": make_user(org=ABSORBED, audience="sanitario", name="Senza Unità"),
        "ortho": make_user(org=ABSORBED, audience="sanitario", name="In Ortopedia"),
        "head": make_user(org=ABSORBED, audience="sanitario", name="Capo Ospedale"),
        "former": make_user(org=ABSORBED, audience="sanitario", name="Ex Dipendente"),
    }
    with service_context(app):
        # "In Entrambi" joined the absorbed organisation first, as its referent.
        from lms.organisations.services import add_member, end_membership

        earlier, _created = add_member(
            db.session,
            absorbed,
            email=people["both"].email,
            full_name="In Entrambi",
            audience_code="sanitario",
            is_referent=True,
        )
        earlier.created_at = _membership(people["both"], TARGET).created_at - dt.timedelta(days=9)
        hospital = create_unit(db.session, absorbed, "Ospedale Pini")
        ortho = create_unit(db.session, absorbed, "Ortopedia", parent=hospital)
        place_member(db.session, _membership(people["ortho"], ABSORBED), ortho)
        head = _membership(people["head"], ABSORBED)
        place_member(db.session, head, hospital)
        head.is_referent = True
        end_membership(db.session, absorbed.id, people["former"].id)
        create_unit(db.session, target, "Ospedale San Paolo")
        audience = db.session.scalar(select(Audience).where(Audience.code == "sanitario"))
        db.session.add_all(
            [
                Commitment(
                    code="pini-triage",
                    title="Triage al Pini",
                    organisation_id=absorbed.id,
                    target_percent=80,
                    deadline=dt.date(2027, 6, 30),
                ),
                DigestSent(organisation_id=absorbed.id, period="2026-11"),
                DigestSent(organisation_id=target.id, period="2026-11"),
                DigestSent(organisation_id=absorbed.id, period="2026-10"),
                RegistrationRule(organisation_id=absorbed.id, enabled=True),
                RegistrationRule(organisation_id=target.id, enabled=False),
                RegistrationRequest(
                    email="nuova@pini.test",
                    full_name="Nuova Richiesta",
                    organisation_id=absorbed.id,
                    audience_id=audience.id,
                    status="pending",
                ),
                Job(
                    kind="lms.mail",
                    status="done",
                    params={},
                    checkpoint={},
                    result={},
                    locale="it",
                    organisation_id=absorbed.id,
                ),
            ]
        )
        db.session.commit()
    return target, absorbed, people, earlier.id


def test_the_merge_moves_people_units_and_every_plugin_row(app: Flask, absorbed_world):
    target, absorbed, people, earlier_id = absorbed_world
    absorbed_id, target_id, name = absorbed.id, target.id, absorbed.name
    before = _pointing_at(absorbed_id)
    assert before["commitments_commitment.organisation_id"] == 1
    assert before["lms_job.organisation_id"] == 1
    with service_context(app):
        result = merge_organisations(db.session, absorbed, target)
        db.session.commit()
    after = _pointing_at(absorbed_id)
    # Nothing points at the absorbed organisation but the audit log, which is history.
    assert {k: v for k, v in after.items() if v and not k.startswith("lms_audit_entry.")} == {}
    assert after["lms_audit_entry.organisation_id"] > 0

    absorbed = db.session.get(Organisation, absorbed_id)
    assert not absorbed.active and absorbed.name == f"{name} (unità in {target.name})"
    unit = result.unit
    assert unit.organisation_id == target_id and unit.name == name and unit.parent_id is None
    hospital = db.session.scalar(
        select(OrganisationUnit).where(OrganisationUnit.name == "Ospedale Pini")
    )
    ortho = db.session.scalar(select(OrganisationUnit).where(OrganisationUnit.name == "Ortopedia"))
    assert hospital.organisation_id == target_id and hospital.parent_id == unit.id
    assert hospital.path == f"{unit.path}{hospital.id}/"
    assert ortho.path == f"{unit.path}{hospital.id}/{ortho.id}/"

    # People: those of the organisation as a whole go in its unit; the others stay put.
    assert _membership(people["staff"], TARGET).unit_id == unit.id
    assert _membership(people["ortho"], TARGET).unit_id == ortho.id
    former = _membership(people["former"], TARGET)
    assert former.ended_at is not None and former.unit_id == unit.id
    # Referents keep their scope, never more: the absorbed's referent follows its unit.
    referent = db.session.get(User, people["referent"].id)
    assert not can_manage_organisation(referent, target_id)
    assert referent_unit_ids(referent, target_id) == {unit.id, hospital.id, ortho.id}
    head = db.session.get(User, people["head"].id)
    assert referent_unit_ids(head, target_id) == {hospital.id, ortho.id}
    # A person in both: one membership, the earlier row, their referent role kept.
    both = db.session.scalars(
        select(Membership).where(Membership.user_id == people["both"].id)
    ).all()
    assert len(both) == 1 and both[0].organisation_id == target_id
    assert both[0].id == earlier_id  # the absorbed organisation's row, the earlier
    assert both[0].is_referent and both[0].unit_id == unit.id and both[0].ended_at is None

    # The plugins' rows: moved; the target's digest of November stands alone.
    digests = db.session.scalars(
        select(DigestSent.period).where(DigestSent.organisation_id == target_id)
    ).all()
    assert sorted(digests) == ["2026-10", "2026-11"]
    assert result.dropped == 2  # the absorbed's November digest and its registration rule
    rule = db.session.scalar(
        select(RegistrationRule).where(RegistrationRule.organisation_id == target_id)
    )
    assert rule.enabled is False  # the target's own rule
    request = db.session.scalar(
        select(RegistrationRequest).where(RegistrationRequest.email == "nuova@pini.test")
    )
    assert request.organisation_id == target_id and request.unit_id == unit.id
    commitment = db.session.scalar(select(Commitment).where(Commitment.code == "pini-triage"))
    assert commitment.organisation_id == target_id

    entries = db.session.scalars(
        select(audit.AuditEntry).where(
            audit.AuditEntry.action.in_(["organisation.merged", "organisation.merged_into"])
        )
    ).all()
    assert {e.organisation_id for e in entries} == {target_id, absorbed_id}
    for entry in entries:
        assert entry.details["absorbed_id"] == absorbed_id
        assert entry.details["target_id"] == target_id
        assert entry.details["current_members"] == 5  # the referent, staff, ortho, head, both
        assert entry.details["units"] == 2
        assert "commitments_commitment=1" in entry.details["tables"]
    # A second merge of the same organisation (a double submit) is refused.
    with service_context(app), pytest.raises(ServiceError, match="già stato unito"):
        merge_organisations(db.session, absorbed, db.session.get(Organisation, target_id))


def test_merging_into_itself_or_into_a_deactivated_organisation_is_refused(app: Flask):
    target = organisation_by_code(db.session, TARGET)
    with service_context(app):
        with pytest.raises(ServiceError, match="sé stesso"):
            merge_organisations(db.session, target, target)
        absorbed = organisation_by_code(db.session, ABSORBED)
        target.active = False
        with pytest.raises(ServiceError, match="disattivato"):
            merge_organisations(db.session, absorbed, target)


def test_a_restricting_unique_key_refuses_instead_of_guessing():
    metadata = MetaData()
    table = Table(
        "plugin_seat",
        metadata,
        Column("id", Integer, primary_key=True),
        Column(
            "organisation_id",
            Integer,
            ForeignKey("lms_organisation.id", ondelete="RESTRICT"),
            unique=True,
        ),
    )
    (reference,) = organisation_references([table])
    assert reference.handling == Handling.REFUSE and reference.unique_sets == ((),)


def test_every_model_reference_to_organisations_is_found():
    found = {f"{r.table.name}.{r.column.name}" for r in organisation_references()}
    assert {
        "lms_membership.organisation_id",
        "lms_org_unit.organisation_id",
        "certificates_certificate.organisation_id",
        "commitments_commitment.organisation_id",
        "commitments_digest.organisation_id",
        "lms_job.organisation_id",
    } <= found


def test_the_admin_pages_confirm_then_merge(app: Flask, make_user, absorbed_world):
    target, absorbed, _people, _earlier = absorbed_world
    target_id, absorbed_id = target.id, absorbed.id
    admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, admin.email)
    choose = f"/admin/organisations/{target_id}/merge"
    assert absorbed.name in client.get(choose).get_data(as_text=True)
    confirm = f"{choose}/{absorbed_id}"
    assert client.get(f"{choose}?absorbed={absorbed_id}").headers["Location"] == confirm
    page = client.get(confirm).get_data(as_text=True)
    assert "5 persone attualmente nell" in page and "1 persona fa già parte di entrambi" in page
    assert "Impegni formativi: 1" in page and "Sì, unisci" in page
    assert db.session.get(Organisation, absorbed_id).active  # nothing changed yet
    # Into itself: refused with a message, back to the choice.
    itself = client.get(f"{choose}/{target_id}")
    assert itself.status_code == 302 and itself.headers["Location"] == choose
    assert "sé stesso" in client.get(choose).get_data(as_text=True)
    assert client.get(f"{choose}/999999").status_code == 404
    assert client.post(confirm).status_code == 400  # no CSRF token
    response = post_form(client, confirm, {})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Organisation, absorbed_id).active
    assert (
        db.session.scalar(
            select(func.count(Membership.id)).where(Membership.organisation_id == absorbed_id)
        )
        == 0
    )
    referent = make_user(org=TARGET, referent=True)
    other = app.test_client()
    login(other, referent.email)
    assert other.get(confirm).status_code == 403
