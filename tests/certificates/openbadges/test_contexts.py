"""JSON-LD: only the vendored contexts, never the network; they say what they said when
vendored; canonicalisation keeps every term of our credentials (issue 20, item 3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from certificates import data_integrity, openbadges
from certificates.data_integrity import OB_V3_CONTEXT, VC_V2_CONTEXT, ProofError
from lms import db

ROOT = Path(__file__).resolve().parents[3]
HASHES = {
    "credentials-v2.jsonld": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "ob-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
}


@pytest.mark.parametrize(("name", "digest"), HASHES.items())
def test_vendored_contexts_are_unchanged(name, digest):
    data = (ROOT / "certificates" / "jsonld" / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest


def test_vc_context_is_the_one_pyld_and_openvc_bundle():
    """Three copies from three packages agree (as JSON) with the vendored one."""
    from openvc.proof import contexts as openvc_contexts  # a test dependency (pyproject)
    from pyld.documentloader.frozen import BUNDLED_CONTEXTS

    ours = json.loads((ROOT / "certificates" / "jsonld" / "credentials-v2.jsonld").read_text())
    assert json.loads(BUNDLED_CONTEXTS[VC_V2_CONTEXT].read_text()) == ours
    assert openvc_contexts.bundled_contexts()[VC_V2_CONTEXT] == ours


def test_loader_serves_only_the_vendored_contexts():
    loader = data_integrity.document_loader()
    assert loader(VC_V2_CONTEXT, {})["document"]["@context"]
    assert loader(OB_V3_CONTEXT, {})["document"]["@context"]
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/ctx.json"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(ProofError, match="JSON-LD processing failed"):
        data_integrity.canonical_nquads(document)


def test_an_undefined_term_is_left_out_of_the_signed_dataset():
    """Why verification validates the context: JSON-LD drops a property no context
    defines (VC 2.0's context has no @vocab), so it is not covered by the signature."""
    document = {
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
    }
    extended = dict(document, inventedProperty="not signed")
    assert data_integrity.canonical_nquads(extended) == data_integrity.canonical_nquads(document)


def test_canonical_form_keeps_the_open_badges_terms(app, issued):
    from tests.conftest import service_context

    with service_context(app):
        badge = openbadges.badge_for(db.session, issued(accreditation=None))
    credential = openbadges.credential_json(badge)
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    nquads = data_integrity.canonical_nquads(unsecured)
    vocab = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
    for term in ("Achievement", "AchievementSubject", "achievementType", "IdentityObject"):
        assert f"<{vocab}{term}>" in nquads
    assert "creditsAvailable>" in nquads and "identityHash>" in nquads
    assert "<https://www.w3.org/ns/credentials/status#BitstringStatusListEntry>" in nquads
