"""Revocation through the Bitstring Status List, seen by both verifiers (issue 20, item 3)."""

from __future__ import annotations

import base64
import gzip

import pytest

from certificates import badge_verification, issuing, openbadges, status_list
from certificates.badge_verification import Outcome
from certificates.status_list import StatusListError
from lms import db
from tests.certificates.openbadges.conftest import (
    public_keys,
    published_status_list,
    schema_errors,
    second_verifier,
)
from tests.certificates.openbadges.second_verifier import multibase_decode

pytestmark = pytest.mark.usefixtures("services")


def test_entry_points_at_the_certificate_bit(issued):
    cert = issued()
    assert status_list.entry(cert) == {
        "id": f"http://lms.test/certificates/credentials/status/revocation#{cert.id}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(cert.id),
        "statusListCredential": "http://lms.test/certificates/credentials/status/revocation",
    }


def test_list_is_signed_at_least_16_kb_and_dated_now(issued):
    issued()
    listed = published_status_list()
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["issuer"] == "did:web:lms.test:certificates"
    assert listed["validFrom"] == listed["proof"]["created"]
    subject = listed["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert subject["encodedList"].startswith("u")
    assert len(gzip.decompress(multibase_decode(subject["encodedList"]))) == 16 * 1024
    second_verifier().verify_data_integrity(listed)


def test_revoked_certificate_is_revoked_for_both_verifiers(issued):
    kept, revoked = issued(), issued()
    badges = {c.id: openbadges.badge_for(db.session, c) for c in (kept, revoked)}
    issuing.revoke(db.session, revoked, "Errore di registrazione", actor=None)

    listed = published_status_list()
    verifier = second_verifier()
    for cert, expected in ((kept, False), (revoked, True)):
        credential = openbadges.credential_json(badges[cert.id])
        assert verifier.revoked(credential, listed) is expected
        assert verifier.revoked(verifier.verify_jwt(badges[cert.id].jwt), listed) is expected
        ours = badge_verification.verify(
            badges[cert.id].jwt, public_keys(), status_list_credential=listed
        )
        assert ours.outcome is (Outcome.REVOKED if expected else Outcome.VALID)
        assert ours.signature_ok
    assert status_list.is_revoked(listed["credentialSubject"]["encodedList"], revoked.id)
    assert not status_list.is_revoked(listed["credentialSubject"]["encodedList"], kept.id)


def test_reissued_certificate_is_revoked(app, issued):
    from certificates.config import issuer_settings

    old = issued()
    badge = openbadges.badge_for(db.session, old)
    new = issuing.reissue(db.session, old, issuer_settings(app))
    listed = published_status_list()
    assert second_verifier().revoked(openbadges.credential_json(badge), listed)
    fresh = openbadges.credential_json(openbadges.badge_for(db.session, new))
    assert not second_verifier().revoked(fresh, listed)


def test_a_tampered_status_list_is_not_trusted(issued):
    cert = issued()
    badge = openbadges.badge_for(db.session, cert)
    issuing.revoke(db.session, cert, "Errore", actor=None)
    listed = published_status_list()
    listed["credentialSubject"]["encodedList"] = status_list.encode(set(), 131_072)
    result = badge_verification.verify(badge.jwt, public_keys(), status_list_credential=listed)
    assert result.outcome is Outcome.MALFORMED
    assert "signature" in result.reason


def test_the_list_grows_past_the_minimum_with_the_ids():
    assert status_list.list_size(0) == 131_072
    assert status_list.list_size(131_071) == 131_072
    assert status_list.list_size(131_072) == 131_080
    encoded = status_list.encode({0, 9, 131_079}, 131_080)
    assert [status_list.is_revoked(encoded, i) for i in (0, 1, 8, 9, 131_079)] == [
        True,
        False,
        False,
        True,
        True,
    ]
    bits = gzip.decompress(multibase_decode(encoded))
    assert bits[0] == 0x80 and bits[1] == 0x40  # index 0 is the left-most bit


def _u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    "encoded",
    [
        "zabc",  # not base64url multibase
        "u" + "A" * (status_list.MAX_ENCODED_CHARS + 1),  # refused before decoding
        "u!!!",
        _u(b"not gzip at all"),
        _u(gzip.compress(b"\0" * (status_list.MAX_LIST_BYTES + 1))),  # a zip bomb
    ],
)
def test_bad_encoded_lists_are_refused_bounded(encoded):
    with pytest.raises(StatusListError):
        status_list.is_revoked(encoded, 0)


def test_index_outside_the_list_is_an_error():
    encoded = status_list.encode(set(), 131_072)
    with pytest.raises(StatusListError):
        status_list.is_revoked(encoded, 131_072)
    with pytest.raises(StatusListError):
        status_list.is_revoked(encoded, -1)


def test_status_list_credential_is_a_credential(issued):
    issued()
    listed = published_status_list()
    assert listed["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert schema_errors(listed)  # not an OpenBadgeCredential, and the schema says so
