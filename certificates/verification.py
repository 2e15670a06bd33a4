"""Checking certificates: a PDF against public keys (offline), a code against the database.

``check_pdf`` needs no database and no network: the CLI and the upload page
both use it, and the page adds what only the database knows (revocation). It
reads the file within the bounds of ``certificates.attachments`` before any
signature work; a file beyond them is UNREADABLE.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates import codes, signing
from certificates.attachments import UnreadablePdf, read_signed_attachments
from certificates.models import Certificate
from lms import clock, throttle

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    VALID = "valid"
    SIGNATURE_INVALID = "signature_invalid"
    NOT_ISSUED_HERE = "not_issued_here"  # no payload, or a key that is not ours
    UNREADABLE = "unreadable"  # not a PDF, damaged, or beyond the bounds on input


@dataclass(frozen=True)
class PdfCheck:
    outcome: Outcome
    payload: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None
    expired: bool = False
    detail: str = ""  # why a file is UNREADABLE (for logs and the command line)

    @property
    def expires_at(self) -> dt.datetime | None:
        return signing.parse_timestamp(self.payload.get("expires"))


def check_payload(
    payload: bytes,
    signature_doc: bytes,
    public_keys: dict[str, Ed25519PublicKey],
    *,
    now: dt.datetime | None = None,
) -> PdfCheck:
    """Verify the signed bytes: the key named by the signature must be one of ours."""
    parsed = signing.parse_signature_document(signature_doc)
    if parsed is None:
        return PdfCheck(Outcome.SIGNATURE_INVALID)
    key_id, signature = parsed
    public_key = public_keys.get(key_id)
    if public_key is None:
        return PdfCheck(Outcome.NOT_ISSUED_HERE, key_id=key_id)
    if not signing.signature_matches(public_key, payload, signature):
        return PdfCheck(Outcome.SIGNATURE_INVALID, key_id=key_id)
    try:
        data = json.loads(payload)
        expires = signing.parse_timestamp(data.get("expires"))
    except (ValueError, AttributeError):
        return PdfCheck(Outcome.SIGNATURE_INVALID, key_id=key_id)
    if data.get("key_id") != key_id or data.get("format") != signing.PAYLOAD_FORMAT:
        return PdfCheck(Outcome.SIGNATURE_INVALID, key_id=key_id)
    expired = expires is not None and expires <= (now or clock.now())
    return PdfCheck(Outcome.VALID, payload=data, key_id=key_id, expired=expired)


def check_pdf(
    data: bytes,
    public_keys: dict[str, Ed25519PublicKey],
    *,
    now: dt.datetime | None = None,
) -> PdfCheck:
    """Offline check of a certificate PDF."""
    try:
        found = read_signed_attachments(data)
    except UnreadablePdf as error:
        log.info("certificate PDF not readable: %s", error)
        return PdfCheck(Outcome.UNREADABLE, detail=str(error))
    payload = found.get(signing.PAYLOAD_NAME)
    signature_doc = found.get(signing.SIGNATURE_NAME)
    if payload is None or signature_doc is None:
        return PdfCheck(Outcome.NOT_ISSUED_HERE)
    return check_payload(payload, signature_doc, public_keys, now=now)


def find_by_code(session: Session, raw_code: str) -> Certificate | None:
    """Look a typed code up case- and dash-insensitively."""
    code = codes.normalise(raw_code)
    if code is None:
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))


def find_signed(session: Session, payload: dict[str, Any]) -> Certificate | None:
    """The database row of a validly signed payload (for its revocation state)."""
    code = codes.normalise(str(payload.get("code", "")))
    if code is None:
        return None
    cert = session.scalar(select(Certificate).where(Certificate.code == code))
    if cert is None or cert.serial != payload.get("serial"):
        return None
    return cert


THROTTLE_SCOPE = "certificate-lookup"


def lookup_allowed(session: Session, address: str, *, limit: int, window: dt.timedelta) -> bool:
    """Count this look-up against the address; False once over the limit.

    Shared by every worker through the database (``lms.throttle``), so a
    brute force on codes meets the same limit whichever worker answers.
    """
    if throttle.is_limited(session, THROTTLE_SCOPE, address, limit=limit, window=window):
        return False
    throttle.record(session, THROTTLE_SCOPE, address)
    return True
