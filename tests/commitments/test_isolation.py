"""Referent isolation: organisation A cannot see, export, import into or enrol B."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from courses.models import Enrolment
from lms import db
from lms.accounts.models import User
from lms.organisations.services import end_membership
from tests.commitments.helpers import ASST, PL, make_commitment, org_id
from tests.conftest import csrf_token, login, membership, post_form

SECRET_NAME = "Infermiera Riservatissima"


@pytest.fixture
def two_organisations(app, make_user, two_courses):
    network, _specific = two_courses
    with app.app_context():
        make_commitment([network], audiences=("polizia_locale", "triage_asst"))
        referent_a = make_user(org=PL, referent=True, audience="amministrazione")
        staff_a = make_user(org=PL, name="Agente Visibile")
        referent_b = make_user(org=ASST, referent=True, audience="amministrazione")
        staff_b = make_user(org=ASST, name=SECRET_NAME, audience="triage_asst")
        ids = org_id(PL), org_id(ASST)
    client = app.test_client()
    login(client, referent_a.email)
    return client, ids, staff_a, staff_b, referent_b


READS = [
    "",
    "export.csv",
    "export.xlsx",
    "summary.pdf",
    "import",
    "enrol",
    "import/modello.csv",
    "import/modello.xlsx",
]


@pytest.mark.parametrize("path", READS)
def test_referent_cannot_read_another_organisation(two_organisations, path):
    client, (a, b), _staff_a, staff_b, _ref_b = two_organisations
    assert client.get(f"/commitments/organisations/{a}/{path}").status_code == 200
    response = client.get(f"/commitments/organisations/{b}/{path}")
    assert response.status_code == 403
    assert SECRET_NAME not in response.get_data(as_text=True)
    assert client.get(f"/commitments/organisations/{b}/people/{staff_b.id}").status_code == 403


def test_another_organisations_person_is_not_found_under_ones_own(two_organisations):
    client, (a, _b), staff_a, staff_b, _ref_b = two_organisations
    assert client.get(f"/commitments/organisations/{a}/people/{staff_a.id}").status_code == 200
    response = client.get(f"/commitments/organisations/{a}/people/{staff_b.id}")
    assert response.status_code == 404
    assert SECRET_NAME not in response.get_data(as_text=True)


def test_referent_cannot_import_into_or_enrol_another_organisation(app, two_organisations, outbox):
    client, (a, b), _staff_a, staff_b, _ref_b = two_organisations
    with app.app_context():
        users = db.session.scalar(select(func.count(User.id)))
        enrolments = db.session.scalar(select(func.count(Enrolment.id)))
    own_form = f"/commitments/organisations/{a}/import"
    data = b"email;nome;cognome;profilo\r\nnuova@x.test;Nuova;Persona;triage_asst\r\n"
    upload = post_form(
        client,
        f"/commitments/organisations/{b}/import",
        {"file": (io.BytesIO(data), "p.csv")},
        form_url=own_form,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 403
    # A confirmation prepared for A, replayed against B.
    preview = post_form(
        client, own_form, {"file": (io.BytesIO(data), "p.csv")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview).group(1)
    replay = post_form(
        client,
        f"/commitments/organisations/{b}/import/apply",
        {"payload": payload},
        form_url=own_form,
    )
    assert replay.status_code == 403
    enrol = post_form(
        client,
        f"/commitments/organisations/{b}/enrol",
        {},
        form_url=f"/commitments/organisations/{a}/enrol",
    )
    assert enrol.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == users
        assert db.session.scalar(select(func.count(Enrolment.id))) == enrolments
    assert outbox.messages() == []


def test_staff_and_former_referents_have_no_access(app, make_user, two_organisations):
    _client, (a, _b), staff_a, _staff_b, referent_b = two_organisations
    client = app.test_client()
    login(client, staff_a.email)
    assert client.get(f"/commitments/organisations/{a}/").status_code == 403
    assert client.get("/commitments/").status_code == 403
    assert "Impegni formativi" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        end_membership(db.session, org_id(ASST), referent_b.id)
        db.session.commit()
        assert membership(referent_b, ASST).is_referent is False
    former = app.test_client()
    login(former, referent_b.email)
    assert former.get(f"/commitments/organisations/{org_id_of(app)}/").status_code == 403


def org_id_of(app) -> int:
    with app.app_context():
        return org_id(ASST)


def test_anonymous_visitors_are_sent_to_login(app, two_organisations):
    _client, (a, _b), *_rest = two_organisations
    anonymous = app.test_client()
    for path in (
        "/commitments/",
        f"/commitments/organisations/{a}/",
        f"/commitments/organisations/{a}/export.xlsx",
        "/commitments/network/",
        "/commitments/manage/",
    ):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/account/login" in response.location


def test_every_commitments_route_declares_its_access(app):
    from lms.authz import access_of

    routes = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("commitments.")]
    assert len(routes) > 15
    for rule in routes:
        if rule.endpoint == "commitments.static":
            continue
        assert access_of(app.view_functions[rule.endpoint]), rule.rule


def test_csrf_is_required_for_every_post(two_organisations):
    client, (a, _b), *_rest = two_organisations
    token = csrf_token(client, f"/commitments/organisations/{a}/import")
    assert token
    for path in ("import", "import/apply", "enrol"):
        assert client.post(f"/commitments/organisations/{a}/{path}").status_code == 400
