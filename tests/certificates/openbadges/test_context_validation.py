"""A Data Integrity proof covers the RDF dataset; the checks read the JSON. Changes that
keep the dataset (so the signature still verifies) but change what the JSON shows are
refused by our verifier (issue 20, item 3)."""

from __future__ import annotations

import pytest

from certificates import badge_verification, data_integrity, issuing, openbadges
from certificates.badge_verification import Outcome
from lms import db
from tests.certificates.openbadges.conftest import (
    public_keys,
    published_status_list,
    second_verifier,
)
from tests.certificates.openbadges.second_verifier import Rejected

pytestmark = pytest.mark.usefixtures("services")

CREDENTIALS = "https://www.w3.org/2018/credentials#"


def _key(badge):
    return public_keys()[badge.key_id]


def _refused(credential, badge) -> str:
    """The signature alone still verifies; the whole check does not."""
    assert data_integrity.verify_proof(credential, _key(badge))  # dataset unchanged
    result = badge_verification.verify(credential, public_keys())
    assert result.outcome is Outcome.MALFORMED, result
    return result.reason


def test_an_added_undefined_property_is_refused(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    credential["credentialSubject"]["achievement"]["grade"] = "eccellente"
    assert "no context defines" in _refused(credential, badge)
    with pytest.raises(Rejected, match="no context defines"):
        second_verifier().verify_data_integrity(credential)


def test_a_status_renamed_to_its_full_iri_is_refused(issued):
    """Otherwise a revoked badge would hide its status entry from the verifier."""
    cert = issued()
    badge = openbadges.badge_for(db.session, cert)
    issuing.revoke(db.session, cert, "Errore", actor=None)
    credential = openbadges.credential_json(badge)
    credential[CREDENTIALS + "credentialStatus"] = credential.pop("credentialStatus")
    assert "compacted" in _refused(credential, badge)
    honest = openbadges.credential_json(badge)
    listed = published_status_list()
    assert badge_verification.verify(
        honest, public_keys(), status_list_credential=listed
    ).outcome is (Outcome.REVOKED)


def test_a_status_wrapped_in_arrays_is_refused(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    credential["credentialStatus"] = [[credential["credentialStatus"]]]
    assert "array inside an array" in _refused(credential, badge)


def test_an_inline_context_is_refused(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    credential["@context"] = [*credential["@context"], {"nome": "https://schema.org/name"}]
    result = badge_verification.verify(credential, public_keys())
    assert result.outcome in {Outcome.MALFORMED, Outcome.BAD_SIGNATURE}


def test_a_subject_id_that_is_not_an_iri_is_refused(issued):
    """PyLD keeps such an id in the dataset, so the signature breaks; the IRI check
    refuses it even for a processor that would drop it."""
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    credential["credentialSubject"]["id"] = "did:example:not an iri"
    assert not badge_verification.verify(credential, public_keys()).signature_ok
    with pytest.raises(data_integrity.ProofError, match="IRI"):
        data_integrity.validate_context(
            {k: v for k, v in credential.items() if k != "proof"}, openbadges.CONTEXTS
        )
