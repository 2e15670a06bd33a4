"""Both signatures of a badge, checked by the second verifier (written from the
specifications) and by our own: VC-JWT and the eddsa-rdfc-2022 proof (issue 20, item 3)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json

import pytest
from flask import Flask
from sqlalchemy import update

from certificates import badge_verification, keys, openbadges, vc_jwt
from certificates.badge_verification import Outcome
from certificates.models import SigningKeyRecord
from lms import clock, db
from tests.certificates.openbadges.conftest import public_keys, schema_errors, second_verifier
from tests.certificates.openbadges.second_verifier import Rejected, b64url_decode

pytestmark = pytest.mark.usefixtures("services")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_second_verifier_accepts_both_forms(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    verifier = second_verifier()

    from_jwt = verifier.verify_jwt(badge.jwt)
    verifier.verify_data_integrity(credential)
    # The JWT carries the same credential, its Data Integrity proof included.
    assert {k: v for k, v in from_jwt.items() if k not in {"iss", "jti", "nbf", "exp"}} == (
        credential
    )
    assert schema_errors(from_jwt) == []


def test_jwt_header_and_claims_follow_ob3(issued):
    cert = issued()
    badge = openbadges.badge_for(db.session, cert)
    head, body, _sig = badge.jwt.split(".")
    header = json.loads(b64url_decode(head))
    payload = json.loads(b64url_decode(body))
    assert header == {
        "alg": "EdDSA",
        "kid": f"did:web:lms.test:certificates#{cert.key_id}",
        "typ": "JWT",
    }
    assert payload["iss"] == "did:web:lms.test:certificates"
    assert payload["jti"] == payload["id"]
    assert payload["nbf"] == int(cert.issued_at.timestamp())
    assert payload["exp"] == int(cert.expires_at.timestamp())
    assert "sub" not in payload  # a hashed-e-mail subject has no id


def test_jwt_of_a_did_subject_has_sub(issued):
    holder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    badge = openbadges.badge_for(db.session, issued(), subject_did=holder)
    payload = json.loads(b64url_decode(badge.jwt.split(".")[1]))
    assert payload["sub"] == holder
    second_verifier().verify_jwt(badge.jwt)


def test_our_verifier_accepts_both_forms(issued):
    badge = openbadges.badge_for(db.session, issued())
    for form, value in (("jwt", badge.jwt), ("data-integrity", badge.credential)):
        result = badge_verification.verify(value, public_keys())
        assert result.outcome is Outcome.VALID, result
        assert result.form == form
        assert result.key_id == badge.key_id
    assert badge_verification.verify(openbadges.credential_json(badge), public_keys()).ok


def test_a_changed_credential_fails_both_verifiers(issued):
    badge = openbadges.badge_for(db.session, issued())
    tampered = openbadges.credential_json(badge)
    tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 80.0
    with pytest.raises(Rejected, match="does not verify"):
        second_verifier().verify_data_integrity(tampered)
    assert badge_verification.verify(tampered, public_keys()).outcome is Outcome.BAD_SIGNATURE

    renamed = openbadges.credential_json(badge)
    renamed["name"] = "Altro corso"
    assert badge_verification.verify(renamed, public_keys()).outcome is Outcome.BAD_SIGNATURE


def test_a_changed_jwt_payload_fails_both_verifiers(issued):
    badge = openbadges.badge_for(db.session, issued())
    head, body, sig = badge.jwt.split(".")
    payload = json.loads(b64url_decode(body))
    payload["name"] = "Altro corso"
    forged = ".".join([head, _b64url(json.dumps(payload).encode()), sig])
    with pytest.raises(Rejected, match="signature"):
        second_verifier().verify_jwt(forged)
    assert badge_verification.verify(forged, public_keys()).outcome is Outcome.BAD_SIGNATURE


def test_claims_that_disagree_with_the_credential_are_refused(issued):
    """A JWT signed by our key whose nbf is not the credential's validFrom."""
    cert = issued()
    badge = openbadges.badge_for(db.session, cert)
    credential = openbadges.credential_json(badge)
    key = keys.signing_key(db.session, "test-secret-key-not-for-production")
    token = vc_jwt.sign(credential, key.private_key, f"did:web:lms.test:certificates#{key.key_id}")
    head, body, _sig = token.split(".")
    payload = json.loads(b64url_decode(body))
    payload["nbf"] -= 86400
    signing_input = head + "." + _b64url(json.dumps(payload).encode())
    resigned = signing_input + "." + _b64url(key.private_key.sign(signing_input.encode()))
    with pytest.raises(Rejected, match="nbf"):
        second_verifier().verify_jwt(resigned)
    result = badge_verification.verify(resigned, public_keys())
    assert result.outcome is Outcome.MALFORMED and "nbf" in result.reason


def test_a_signature_by_another_key_is_unknown(issued):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    stranger = Ed25519PrivateKey.generate()
    forged = vc_jwt.sign(credential, stranger, "did:web:lms.test:certificates#0000000000000000")
    assert badge_verification.verify(forged, public_keys()).outcome is Outcome.UNKNOWN_KEY
    with pytest.raises(Rejected, match="not in the DID document"):
        second_verifier().verify_jwt(forged)
    # Our key id in the kid, someone else's signature.
    lying = vc_jwt.sign(credential, stranger, f"did:web:lms.test:certificates#{badge.key_id}")
    assert badge_verification.verify(lying, public_keys()).outcome is Outcome.BAD_SIGNATURE


def test_key_rotation_old_badges_verify_through_the_did_document(app: Flask, issued):
    secret = app.config["LMS_SECRET_KEY"]
    cert = issued()
    old = openbadges.badge_for(db.session, cert)
    new_key = keys.rotate(db.session, secret)
    assert new_key != old.key_id

    verifier = second_verifier()  # the DID document now lists both keys
    verifier.verify_jwt(old.jwt)
    verifier.verify_data_integrity(openbadges.credential_json(old))
    assert badge_verification.verify(old.jwt, public_keys()).ok

    # A badge made now for the old certificate is signed with the certificate's own key,
    # a new certificate's with the new key.
    holder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    later = openbadges.badge_for(db.session, cert, subject_did=holder)
    assert later.key_id == cert.key_id == old.key_id
    fresh = openbadges.badge_for(db.session, issued())
    assert fresh.key_id == new_key
    verifier = second_verifier()
    verifier.verify_jwt(later.jwt)
    verifier.verify_jwt(fresh.jwt)


def test_a_key_kept_only_to_verify_gives_way_to_the_current_one(app: Flask, issued):
    cert = issued()
    new_key = keys.rotate(db.session, app.config["LMS_SECRET_KEY"])
    db.session.execute(
        update(SigningKeyRecord)
        .where(SigningKeyRecord.key_id == cert.key_id)
        .values(private_sealed=None)
    )
    badge = openbadges.badge_for(db.session, cert)
    assert badge.key_id == new_key
    second_verifier().verify_data_integrity(openbadges.credential_json(badge))


def test_dates_decide_expired_and_not_yet_valid(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    until = dt.datetime.strptime(credential["validUntil"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.UTC
    )
    late = badge_verification.verify(badge.jwt, public_keys(), now=until + dt.timedelta(seconds=1))
    assert late.outcome is Outcome.EXPIRED and late.signature_ok
    early = badge_verification.verify(
        badge.jwt, public_keys(), now=clock.now() - dt.timedelta(days=2)
    )
    assert early.outcome is Outcome.NOT_YET_VALID


def test_changing_a_copy_never_changes_the_stored_badge(issued):
    badge = openbadges.badge_for(db.session, issued())
    copy.deepcopy(openbadges.credential_json(badge))["name"] = "x"
    assert badge_verification.verify(badge.credential, public_keys()).ok
