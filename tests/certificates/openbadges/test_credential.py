"""The OpenBadgeCredential of a certificate: what it says, and only that (issue 20, item 3)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from certificates import did, openbadges, status_list
from certificates.models import OpenBadge
from lms import db
from lms.errors import ServiceError
from tests.certificates.openbadges.conftest import schema_errors

pytestmark = pytest.mark.usefixtures("services")

ACCREDITATION = {
    "body": "Consiglio dell'Ordine degli Avvocati di Milano",
    "provider": "Comune di Milano",
    "event": "COA-2026-118",
    "credits": "6",
    "valid_from": "2026-01-01",
    "valid_until": "2030-12-31",
}


def test_credential_states_the_certificate_and_validates_against_the_schema(issued):
    cert = issued(email="anna.bianchi@rete-milano.test")
    credential = openbadges.credential_json(openbadges.badge_for(db.session, cert))

    assert schema_errors(credential) == []
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"http://lms.test/certificates/credentials/{cert.code}"
    assert credential["issuer"] == {
        "id": "did:web:lms.test:certificates",
        "type": ["Profile"],
        "name": cert.issuer,
        "url": "http://lms.test",
    }
    assert credential["validFrom"] == cert.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["validUntil"] == cert.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["name"] == cert.title
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == cert.title
    assert achievement["version"] == cert.version_label
    assert achievement["achievementType"] == "Course"
    assert achievement["creditsAvailable"] == 8.0
    assert achievement["id"] == (
        "http://lms.test/certificates/achievements/course%3Aaccoglienza/2026.1"
    )
    assert "8 ore" in achievement["criteria"]["narrative"]
    (protocol,) = achievement["alignment"]  # a course: the protocol only
    assert protocol["targetName"].startswith("Protocollo Milano")
    assert protocol["targetType"] == "ext:Protocol"
    assert credential["credentialStatus"] == status_list.entry(cert)
    # The holder's name is not in the badge: the subject is the hashed e-mail.
    assert "Anna Bianchi" not in json.dumps(credential)
    assert "anna.bianchi" not in json.dumps(credential)


def test_identity_hash_is_the_email_with_the_salt(issued):
    cert = issued(email="Anna.Bianchi@Rete-Milano.test")
    credential = openbadges.credential_json(openbadges.badge_for(db.session, cert))
    (identity,) = credential["credentialSubject"]["identifier"]
    assert identity["type"] == "IdentityObject"
    assert identity["identityType"] == "emailAddress"
    assert identity["hashed"] is True
    salt = identity["salt"]
    assert len(salt) == 32
    expected = hashlib.sha256(("anna.bianchi@rete-milano.test" + salt).encode()).hexdigest()
    assert identity["identityHash"] == "sha256$" + expected
    assert "id" not in credential["credentialSubject"]


def test_identity_hash_follows_the_specification_example():
    # OB 3.0 IdentityHash: 'a@example.com' salted with 'Kosher'.
    assert openbadges.identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


def test_salt_is_random_per_badge(issued):
    first = openbadges.badge_for(db.session, issued(email="stessa@rete-milano.test"))
    other = issued(email="altra@rete-milano.test")
    second = openbadges.badge_for(db.session, other)
    salts = [
        openbadges.credential_json(b)["credentialSubject"]["identifier"][0]["salt"]
        for b in (first, second)
    ]
    assert salts[0] != salts[1]


def test_holder_did_is_the_subject_and_gets_its_own_badge(issued):
    cert = issued()
    holder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    by_hash = openbadges.badge_for(db.session, cert)
    by_did = openbadges.badge_for(db.session, cert, subject_did=holder)
    assert by_did.id != by_hash.id
    assert by_did.subject_id == holder
    credential = openbadges.credential_json(by_did)
    assert credential["credentialSubject"]["id"] == holder
    assert "identifier" not in credential["credentialSubject"]
    assert schema_errors(credential) == []


@pytest.mark.parametrize(
    "value", ["z6Mkhax", "did:", "did:key:", "did:key:abc def", "did:Key:x", "did:key:" + "z" * 300]
)
def test_a_malformed_did_is_refused(issued, value):
    cert = issued()
    with pytest.raises(ServiceError):
        openbadges.badge_for(db.session, cert, subject_did=value)


def test_badge_is_made_once_and_stored(issued):
    cert = issued()
    first = openbadges.badge_for(db.session, cert)
    again = openbadges.badge_for(db.session, cert)
    blank = openbadges.badge_for(db.session, cert, subject_did="  ")
    assert first.id == again.id == blank.id
    assert again.credential == first.credential and again.jwt == first.jwt
    count = db.session.scalar(
        select(func.count()).select_from(OpenBadge).where(OpenBadge.certificate_id == cert.id)
    )
    assert count == 1
    assert first.key_id == cert.key_id


def test_no_hours_printed_means_no_credits_available(issued):
    cert = issued(hours=None, renewal_months=None)
    credential = openbadges.credential_json(openbadges.badge_for(db.session, cert))
    achievement = credential["credentialSubject"]["achievement"]
    assert "creditsAvailable" not in achievement
    assert "ore" not in achievement["criteria"]["narrative"]
    assert "validUntil" not in credential
    assert schema_errors(credential) == []


def test_accreditation_as_printed_is_in_the_criteria(issued):
    cert = issued(accreditation=ACCREDITATION)
    narrative = openbadges.credential_json(openbadges.badge_for(db.session, cert))[
        "credentialSubject"
    ]["achievement"]["criteria"]["narrative"]
    assert "Consiglio dell'Ordine degli Avvocati di Milano" in narrative
    assert "COA-2026-118" in narrative
    assert "6 crediti" in narrative


def test_commitment_certificate_aligns_to_the_commitment(issued):
    cert = issued(kind="commitment", key="commitment:7", title="Impegno formativo 2026")
    credential = openbadges.credential_json(openbadges.badge_for(db.session, cert))
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Achievement"
    protocol, alignment = achievement["alignment"]
    assert protocol["targetType"] == "ext:Protocol"
    assert alignment["targetName"] == "Impegno formativo 2026"
    assert alignment["targetUrl"].startswith("http://lms.test/")
    assert alignment["targetType"] == "ext:ProtocolCommitment"
    assert schema_errors(credential) == []


def test_session_certificate_is_a_course_achievement(issued):
    cert = issued(kind="session", key="session:3", title="Incontro di rete", hours=2)
    credential = openbadges.credential_json(openbadges.badge_for(db.session, cert))
    assert credential["credentialSubject"]["achievement"]["achievementType"] == "Course"
    assert schema_errors(credential) == []


def test_issuer_profile_and_did_follow_the_base_url(app, services):
    assert did.issuer_profile()["name"] == app.config["LMS_CERT_ISSUER"]
    assert did.issuer_profile("Altro ente")["name"] == "Altro ente"
    assert did.verification_method("abc") == "did:web:lms.test:certificates#abc"
