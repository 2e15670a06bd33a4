"""Organisation units: the tree's services, the scope they give referents, every
organisation route walked as a unit referent, and the migration from flat organisations."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms import db
from lms.authz import access_of
from lms.errors import ServiceError
from lms.organisations import units
from lms.organisations.models import Membership, OrganisationUnit
from lms.organisations.policy import (
    CURRENT_REFERENT,
    managed_organisation_ids,
    referent_organisation_ids,
    referent_unit_ids,
    staff_scope,
)
from lms.organisations.services import organisation_by_code
from tests.conftest import login, membership, post_form

ASST = "ASST-NIGUARDA"
PL = "CDM-PL-NTDM"


@pytest.fixture
def asst(app, make_user):
    """ASST → two hospitals → a department under the first."""
    with app.app_context():
        organisation = organisation_by_code(db.session, ASST)
        hospital_1 = units.create_unit(db.session, organisation, "Ospedale Uno")
        hospital_2 = units.create_unit(db.session, organisation, "Ospedale Due")
        emergency = units.create_unit(
            db.session, organisation, "Pronto soccorso", parent=hospital_1
        )
        db.session.commit()
        return {u.name: u.id for u in (hospital_1, hospital_2, emergency)} | {
            "org": organisation.id
        }


def _unit(unit_id: int) -> OrganisationUnit:
    found = db.session.get(OrganisationUnit, unit_id)
    assert found is not None
    return found


def test_paths_and_subtrees(app, asst):
    with app.app_context():
        one, two, emergency = (
            _unit(asst[n]) for n in ("Ospedale Uno", "Ospedale Due", "Pronto soccorso")
        )
        assert emergency.path == f"/{one.id}/{emergency.id}/" and emergency.depth == 1
        assert units.subtree_ids(db.session, [one.id]) == {one.id, emergency.id}
        assert units.subtree_ids(db.session, [two.id]) == {two.id}
        ordered = [u.name for u in units.units_of(db.session, asst["org"])]
        assert ordered == ["Ospedale Due", "Ospedale Uno", "Pronto soccorso"]


def test_move_rewrites_the_subtree_and_refuses_cycles(app, asst):
    with app.app_context():
        one, two, emergency = (
            _unit(asst[n]) for n in ("Ospedale Uno", "Ospedale Due", "Pronto soccorso")
        )
        with pytest.raises(ServiceError):
            units.move_unit(db.session, one, emergency)  # under its own child
        with pytest.raises(ServiceError):
            units.move_unit(db.session, one, one)
        units.move_unit(db.session, one, two)
        db.session.commit()
        one, emergency = _unit(asst["Ospedale Uno"]), _unit(asst["Pronto soccorso"])
        assert one.path == f"/{two.id}/{one.id}/"
        assert emergency.path == f"/{two.id}/{one.id}/{emergency.id}/"
        assert units.subtree_ids(db.session, [two.id]) == {two.id, one.id, emergency.id}


def test_names_are_unique_among_open_siblings_and_units_stay_in_their_organisation(app, asst):
    with app.app_context():
        organisation = organisation_by_code(db.session, ASST)
        with pytest.raises(ServiceError):
            units.create_unit(db.session, organisation, "ospedale uno")
        with pytest.raises(ServiceError):
            units.create_unit(db.session, organisation, "   ")
        other = organisation_by_code(db.session, PL)
        with pytest.raises(ServiceError):
            units.create_unit(db.session, other, "Comando", parent=_unit(asst["Ospedale Uno"]))
        # The same name under another parent is another unit.
        units.create_unit(
            db.session, organisation, "Pronto soccorso", parent=_unit(asst["Ospedale Due"])
        )


def test_close_is_refused_while_people_or_open_units_remain(app, asst, make_user):
    with app.app_context():
        one, emergency = _unit(asst["Ospedale Uno"]), _unit(asst["Pronto soccorso"])
        nurse = make_user(org=ASST, audience="triage_asst")
        units.place_member(db.session, membership(nurse, ASST), emergency)
        with pytest.raises(ServiceError):
            units.close_unit(db.session, one)  # an open unit below
        with pytest.raises(ServiceError):
            units.close_unit(db.session, emergency)  # someone works there
        units.place_member(db.session, membership(nurse, ASST), one)
        units.close_unit(db.session, emergency)
        assert not emergency.is_open
        with pytest.raises(ServiceError):
            units.place_member(db.session, membership(nurse, ASST), emergency)


def test_scopes_of_unit_and_organisation_referents(app, asst, make_user):
    with app.app_context():
        ref_one = make_user(org=ASST, audience="amministrazione")
        found = membership(ref_one, ASST)
        found.is_referent = True
        units.place_member(db.session, found, _unit(asst["Ospedale Uno"]))
        ref_all = make_user(org=ASST, audience="amministrazione", referent=True)
        db.session.commit()
        # A unit referent is not a referent of the whole organisation.
        assert referent_organisation_ids(ref_one) == set()
        assert managed_organisation_ids(ref_one) == {asst["org"]}
        assert referent_unit_ids(ref_one, asst["org"]) == {
            asst["Ospedale Uno"],
            asst["Pronto soccorso"],
        }
        scope = staff_scope(ref_one, asst["org"])
        assert scope is not None and scope.unit_ids == {
            asst["Ospedale Uno"],
            asst["Pronto soccorso"],
        }
        assert staff_scope(ref_one, organisation_by_code(db.session, PL).id) is None
        whole = staff_scope(ref_all, asst["org"])
        assert whole is not None and whole.whole_organisation
        assert whole.narrowed_to({1, 2}).unit_ids == {1, 2}
        assert scope.narrowed_to({asst["Ospedale Due"]}).unit_ids == frozenset()


def _organisation_routes(app):
    for rule in app.url_map.iter_rules():
        access = access_of(app.view_functions[rule.endpoint]) or ""
        if access.startswith("organisation_manager:org_id"):
            yield rule, access.endswith(":units")


def _url(rule, org_id: int, user_id: int) -> str | None:
    values: dict[str, object] = {}
    for name in rule.arguments:
        if name == "org_id":
            values["org_id"] = org_id
        elif name == "user_id":
            values["user_id"] = user_id
        else:
            return None  # routes with other ids: their own tests
    return rule.build(values)[1] if hasattr(rule, "build") else None


def test_every_organisation_route_as_a_unit_referent(app, asst, make_user):
    """Routes that scope their data by unit (``organisation_manager(units=True)``) answer
    a unit referent; every other organisation route refuses them (403), GET and POST."""
    with app.app_context():
        ref_one = make_user(org=ASST, audience="amministrazione", email="unita@asst.test")
        found = membership(ref_one, ASST)
        found.is_referent = True
        units.place_member(db.session, found, _unit(asst["Ospedale Uno"]))
        nurse = make_user(org=ASST, audience="triage_asst")
        units.place_member(db.session, membership(nurse, ASST), _unit(asst["Pronto soccorso"]))
        other = make_user(org=ASST, audience="triage_asst")
        units.place_member(db.session, membership(other, ASST), _unit(asst["Ospedale Due"]))
        db.session.commit()
        nurse_id, other_id = nurse.id, other.id
    client = app.test_client()
    assert login(client, "unita@asst.test").status_code == 302
    checked = {"scoped": 0, "refused": 0}
    for rule, scoped in _organisation_routes(app):
        url = _url(rule, asst["org"], nurse_id)
        if url is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                status = client.get(url).status_code
            else:
                status = post_form(client, url, {}).status_code if scoped else None
                if status is None:
                    status = client.post(url, data={}).status_code  # refused before CSRF
            if scoped:
                assert status != 403, f"{method} {url}: {status}"
                checked["scoped"] += 1
                if "user_id" in rule.arguments:  # someone of a unit outside the subtree
                    outside = url.replace(f"/{nurse_id}", f"/{other_id}")
                    assert client.get(outside).status_code == 404, outside
            else:
                assert status in (400, 403), f"{method} {url}: {status}"
                checked["refused"] += 1
    assert checked["scoped"] >= 5 and checked["refused"] >= 5, checked


def test_migration_keeps_flat_organisations_whole(tmp_path):
    """Revision 0008 on a database with a referent and a member: both stay members of the
    organisation as a whole, the referent still a referent of all of it."""
    from alembic import command
    from sqlalchemy import text

    from lms.migrate import alembic_config
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, f"sqlite:///{tmp_path / 'migrated.db'}")
    config = alembic_config(app)
    engine = app.extensions["lms"].engine
    command.upgrade(config, "0007")
    now = "2026-01-01 00:00:00.000000"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lms_organisation (id, name, code, type, signatory, active, "
                "created_at) VALUES (1, 'Ente', 'ENTE', 'altro', 1, 1, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO lms_audience (id, code, name_it, name_en) "
                "VALUES (1, 'altro', 'Altro', 'Other')"
            )
        )
        for user_id, referent in ((1, 1), (2, 0)):
            connection.execute(
                text(
                    "INSERT INTO lms_user (id, email, full_name, locale, active, "
                    "session_token, created_at) VALUES (:id, :email, 'P', 'it', 1, 't', :now)"
                ),
                {"id": user_id, "email": f"p{user_id}@ente.test", "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO lms_membership (user_id, organisation_id, audience_id, "
                    "is_referent, created_at) VALUES (:id, 1, 1, :ref, :now)"
                ),
                {"id": user_id, "ref": referent, "now": now},
            )
    command.upgrade(config, "0008")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT user_id, is_referent, unit_id FROM lms_membership ORDER BY user_id")
        ).all()
        assert [tuple(r) for r in rows] == [(1, 1, None), (2, 0, None)]
        # The policy's own condition still finds the referent of the whole organisation.
        whole = select(Membership.user_id, Membership.organisation_id).where(CURRENT_REFERENT)
        assert [tuple(r) for r in connection.execute(whole)] == [(1, 1)]
        assert connection.scalar(text("SELECT count(*) FROM lms_org_unit")) == 0
    command.downgrade(config, "0007")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM lms_membership")) == 2
    engine.dispose()
