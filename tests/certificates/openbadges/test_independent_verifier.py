"""An independent implementation from PyPI checks our Data Integrity proofs: openvc-core
(its ``eddsa-rdfc-2022`` suite, with its own JSON-LD context validation). Its VC-JWT
suite reads only VC 1.1 ``vc``-claim tokens, while OB 3.0 puts the credential at the top
of the JWT payload, so the JWT form is left to the second verifier (issue 20, item 3)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from openvc.proof import data_integrity as openvc_di  # a test dependency (pyproject)
from openvc.proof.errors import SignatureInvalid

from certificates import issuing, openbadges
from certificates.data_integrity import OB_V3_CONTEXT
from lms import clock, db
from tests.certificates.openbadges.conftest import public_keys, published_status_list

pytestmark = pytest.mark.usefixtures("services")

OB_CONTEXT = json.loads(
    (Path(__file__).resolve().parents[3] / "certificates/jsonld/ob-context-3.0.3.json").read_text()
)


def _jwk(key_id: str) -> dict[str, str]:
    raw = public_keys()[key_id].public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).decode().rstrip("=")}


def _verify(secured: dict, key_id: str):
    suite = openvc_di.DataIntegrityProofSuite()
    return suite.verify(
        secured,
        public_key_jwk=_jwk(key_id),
        extra_contexts={OB_V3_CONTEXT: OB_CONTEXT},
        now=clock.now(),
    )


def test_openvc_verifies_a_badge_and_refuses_a_changed_one(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    result = _verify(credential, badge.key_id)
    assert result.issuer == "did:web:lms.test:certificates"
    assert not result.expired

    credential["credentialSubject"]["achievement"]["name"] = "Altro corso"
    with pytest.raises(SignatureInvalid):
        _verify(credential, badge.key_id)


def test_openvc_verifies_the_status_list(issued):
    cert = issued()
    issuing.revoke(db.session, cert, "Errore", actor=None)
    listed = published_status_list()
    key_id = listed["proof"]["verificationMethod"].split("#")[1]
    assert _verify(listed, key_id).issuer == "did:web:lms.test:certificates"


def test_openvc_sees_an_expired_badge(issued):
    badge = openbadges.badge_for(db.session, issued())
    credential = openbadges.credential_json(badge)
    late = dt.datetime.strptime(credential["validUntil"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.UTC
    ) + dt.timedelta(days=1)
    suite = openvc_di.DataIntegrityProofSuite()
    with pytest.raises(Exception, match="(?i)expired"):
        suite.verify(
            credential,
            public_key_jwk=_jwk(badge.key_id),
            extra_contexts={OB_V3_CONTEXT: OB_CONTEXT},
            now=late,
        )
