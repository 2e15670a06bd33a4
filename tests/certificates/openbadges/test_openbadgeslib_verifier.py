"""A third verifier, independent of this code base: openbadgeslib (PyPI), which resolves
the issuer's did:web, checks the VC-JWT (Open Badges 3.0 section 8.2) and reads the
published Bitstring Status List. Everything it fetches is served by the application."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier, check_credential_status

from certificates import did, issuing, openbadges
from lms import db

pytestmark = pytest.mark.usefixtures("services")


def _published(app: Flask) -> Any:
    """openbadgeslib's download hook: a URL of the platform, fetched from the app (did:web
    resolves to https; the status list is at LMS_BASE_URL, http in the tests)."""
    client = app.test_client()

    def download(url: str) -> bytes:
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.netloc == "lms.test", url
        response = client.get(parts.path)
        assert response.status_code == 200, (url, response.status_code)
        return response.data

    return download


def _verifier(app: Flask) -> OB3Verifier:
    return OB3Verifier.for_issuer_did(did.issuer_id(), download=_published(app))


def test_openbadgeslib_verifies_the_jwt_through_the_published_did(app: Flask, issued):
    cert = issued()
    badge = openbadges.badge_for(db.session, cert)
    db.session.commit()
    credential = _verifier(app).verify(badge.jwt)
    assert credential.name == cert.title
    check_credential_status(credential, download=_published(app))  # not revoked: no error


def test_openbadgeslib_refuses_a_changed_token(app: Flask, issued):
    badge = openbadges.badge_for(db.session, issued())
    db.session.commit()
    header, payload, signature = badge.jwt.split(".")
    forged = ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )
    with pytest.raises(OB3VerificationError):
        _verifier(app).verify(forged)


def test_openbadgeslib_sees_the_revocation_in_the_status_list(app: Flask, issued):
    cert = issued()
    badge = openbadges.badge_for(db.session, cert)
    issuing.revoke(db.session, cert, "Attestato emesso per errore", actor=None)
    db.session.commit()
    credential = _verifier(app).verify(badge.jwt)  # the signature stays good ...
    with pytest.raises(OB3VerificationError, match="status .revocation. is set"):
        check_credential_status(credential, download=_published(app))  # ... the list says no
