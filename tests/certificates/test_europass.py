"""The Europass-ready export (issue 20, item 4): a certificate's data in ELM 3 fields, as
JSON an installation with a qualified electronic seal imports into the EDC tools. No seal
is made, none is imitated."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import Flask

from certificates import codes, europass
from certificates.config import verify_url
from lms import clock, db
from lms.accounts.models import Role
from tests.conftest import login

ACCREDITATION = {
    "body": "Consiglio dell'Ordine degli Avvocati di Milano",
    "provider": "Comune di Milano",
    "event": "EV-2026-17",
    "credits": "6",
    "valid_from": "2020-01-01",
    "valid_until": "2099-12-31",
}


@pytest.mark.parametrize(
    ("hours", "duration"),
    [
        (7.5, "PT7H30M"),
        (8, "PT8H"),
        (0.25, "PT15M"),
        (1.75, "PT1H45M"),
        (2 / 3, "PT40M"),
        (0, "PT0H"),
    ],
)
def test_hours_become_an_iso_8601_duration(hours: float, duration: str) -> None:
    assert europass.volume_of_learning(hours) == duration


def _claim(document: dict) -> dict:
    (claim,) = document["credentialSubject"]["hasClaim"]
    return claim


def _notes(claim: dict) -> list[str]:
    return [note["noteLiteral"]["it"][0] for note in claim["additionalNote"]]


def test_the_fields_carry_the_certificate(app: Flask, make_user, complete):
    holder = make_user(name="Giulia Colombo", org="CDM-PL-NTDM")
    cert = complete(
        holder,
        title="Accoglienza e orientamento delle donne",
        version_label="2026.1",
        hours=7.5,
        renewal_months=24,
        accreditation=ACCREDITATION,
    )
    with app.app_context():
        link = verify_url(cert.code)
        document = europass.credential(cert, link)
    assert document["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert document["@context"][1] == "http://data.europa.eu/snb/model/context/edc-ap"
    assert document["credentialSchema"][0]["id"].endswith("/ap/edc-generic-full")
    assert "proof" not in document and "signatures" not in document  # not sealed
    subject = document["credentialSubject"]
    assert subject["type"] == "Person" and subject["fullName"] == {"it": ["Giulia Colombo"]}
    claim = _claim(document)
    assert claim["type"] == "LearningAchievement"
    assert claim["title"] == {"it": [cert.title]}
    spec = claim["specifiedBy"]
    assert spec["type"] == "LearningAchievementSpecification"
    assert spec["title"] == {"it": [cert.title]} and spec["volumeOfLearning"] == "PT7H30M"
    awarding = claim["awardedBy"]
    assert awarding["type"] == "AwardingProcess"
    assert awarding["awardingBody"][0]["legalName"] == {"it": [cert.issuer]}
    assert document["issuer"]["legalName"] == {"it": [cert.issuer]}  # awarding body = issuer
    assert awarding["awardingDate"] == _z(cert.completed_at)
    assert document["issued"] == document["validFrom"] == _z(cert.issued_at)
    assert document["expirationDate"] == _z(cert.expires_at)
    (page,) = claim["supplementaryDocument"]
    assert page["type"] == "WebResource" and page["contentURL"] == link
    assert link.endswith(codes.grouped(cert.code))
    notes = _notes(claim)
    assert "Versione del corso: 2026.1" in notes
    assert f"Organizzazione di appartenenza: {cert.organisation_name}" in notes
    assert cert.organisation_name
    assert f"Crediti formativi: {cert.credits}" in notes and cert.credits == "6"
    (accredited,) = [n for n in notes if n.startswith("Accreditamento: ")]
    assert ACCREDITATION["body"] in accredited and "EV-2026-17" in accredited
    # The same certificate always gives the same document (id derived from its link).
    with app.app_context():
        assert europass.credential(cert, link) == document


def test_what_the_certificate_does_not_state_is_left_out(app: Flask, make_user, complete):
    cert = complete(make_user(), hours=None, renewal_months=None)
    document = europass.credential(cert, "http://lms.test/certificates/verify/X")
    claim = _claim(document)
    assert "volumeOfLearning" not in claim["specifiedBy"]  # no hours printed, none exported
    assert "expirationDate" not in document
    assert _notes(claim) == [f"Versione del corso: {cert.version_label}"]


def _z(moment: dt.datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- The download ----------------------------------------------------------------------


def test_the_holder_downloads_her_own_and_nobody_else_s(app: Flask, make_user, complete):
    holder, other = make_user(name="Maria Rossi"), make_user(name="Altra Persona")
    mine = complete(holder, hours=7.5)
    theirs = complete(other)
    client = app.test_client()
    assert client.get(f"/certificates/{mine.id}/europass.json").status_code == 302  # login
    login(client, holder.email)
    listing = client.get("/certificates/").get_data(as_text=True)
    assert f"/certificates/{mine.id}/europass.json" in listing  # her page links it
    response = client.get(f"/certificates/{mine.id}/europass.json")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert "non-sigillato" in response.headers["Content-Disposition"]
    document = json.loads(response.data)
    assert document["credentialSubject"]["fullName"] == {"it": ["Maria Rossi"]}
    assert _claim(document)["specifiedBy"]["volumeOfLearning"] == "PT7H30M"
    with app.app_context():
        assert _claim(document)["supplementaryDocument"][0]["contentURL"] == verify_url(mine.code)
    assert client.get(f"/certificates/{theirs.id}/europass.json").status_code == 404
    assert client.get("/certificates/999999/europass.json").status_code == 404


def test_admins_download_any_and_find_the_link(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    cert = complete(make_user())
    client = app.test_client()
    login(client, admin.email)
    page = client.get(f"/certificates/admin/{cert.id}").get_data(as_text=True)
    assert f"/certificates/{cert.id}/europass.json" in page
    assert client.get(f"/certificates/{cert.id}/europass.json").status_code == 200
    assert client.get("/certificates/999999/europass.json").status_code == 404


def test_a_revoked_certificate_is_not_exported(app: Flask, make_user, complete):
    holder = make_user()
    cert = complete(holder)
    cert.revoked_at, cert.revoked_reason = clock.now(), "Dati errati"
    db.session.commit()
    client = app.test_client()
    login(client, holder.email)
    refused = client.get(f"/certificates/{cert.id}/europass.json")
    assert f"/certificates/{cert.id}/europass.json" not in client.get("/certificates/").get_data(
        as_text=True
    )
    assert refused.status_code == 400
    assert "revocato" in refused.get_data(as_text=True)
