"""Checking certificates: a PDF against public keys (offline), a code against the database.

``check_pdf`` needs no database and no network: the CLI and the upload page
both use it, and the page adds what only the database knows (revocation). It
reads the file within the bounds of ``certificates.attachments`` before any
signature work; a file beyond them is UNREADABLE.

Given the installation's PAdES certificates (``pades_trust``), it also checks the
document itself: the PDF signature must be intact, ours and over the whole file, and
the first page must show the signed name and title. Otherwise a validly signed payload
is ALTERED: someone changed what a reader sees. A file with no PDF signature at all
whose payload was issued before the installation signed PDFs (an old download) is
UNCONFIRMED: the payload is genuine, the page cannot be confirmed; one issued after is
ALTERED (it was never served without the signature).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates import codes, pades, signing
from certificates.attachments import UnreadablePdf, read
from certificates.models import Certificate
from lms import clock, throttle

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    VALID = "valid"
    SIGNATURE_INVALID = "signature_invalid"
    NOT_ISSUED_HERE = "not_issued_here"  # no payload, or a key that is not ours
    UNREADABLE = "unreadable"  # not a PDF, damaged, or beyond the bounds on input
    ALTERED = "altered"  # payload genuine; PDF signature broken or missing, or page changed
    UNCONFIRMED = "unconfirmed"  # payload genuine; an old PDF without the PDF signature


class Page(enum.StrEnum):
    """The document check, when asked for (``pades_trust``)."""

    NOT_CHECKED = "not_checked"
    SIGNED = "signed"  # PDF signature ours, intact, over the whole file; page text matches
    MISSING = "missing"  # no PDF signature
    BROKEN = "broken"  # PDF signature not intact, not ours, or changes after it
    TEXT = "text"  # the page does not show the signed name and title


@dataclass(frozen=True)
class PdfCheck:
    outcome: Outcome
    payload: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None
    expired: bool = False
    detail: str = ""  # why a file is UNREADABLE or ALTERED (for logs and the command line)
    document: Page = Page.NOT_CHECKED
    timestamped: bool = False  # the PDF signature carries a timestamp (PAdES B-T)

    @property
    def genuine_payload(self) -> bool:
        """The embedded payload verified (whatever the document check said)."""
        return self.outcome in (Outcome.VALID, Outcome.ALTERED, Outcome.UNCONFIRMED)

    @property
    def expires_at(self) -> dt.datetime | None:
        return self._moment("expires")

    @property
    def issued_at(self) -> dt.datetime | None:
        return self._moment("issued")

    @property
    def completed_at(self) -> dt.datetime | None:
        return self._moment("completed")

    def _moment(self, name: str) -> dt.datetime | None:
        value = self.payload.get(name)
        try:
            return signing.parse_timestamp(value) if isinstance(value, str) else None
        except ValueError:
            return None


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
    pades_trust: pades.Trust | None = None,
) -> PdfCheck:
    """Offline check of a certificate PDF: the embedded payload, and with ``pades_trust``
    (the installation's PAdES certificates) the document a reader sees."""
    try:
        contents = read(data, text=pades_trust is not None)
    except UnreadablePdf as error:
        log.info("certificate PDF not readable: %s", error)
        return PdfCheck(Outcome.UNREADABLE, detail=str(error))
    payload = contents.attachments.get(signing.PAYLOAD_NAME)
    signature_doc = contents.attachments.get(signing.SIGNATURE_NAME)
    if payload is None or signature_doc is None:
        return PdfCheck(Outcome.NOT_ISSUED_HERE)
    check = check_payload(payload, signature_doc, public_keys, now=now)
    if check.outcome is not Outcome.VALID or pades_trust is None:
        return check
    return _check_document(check, data, contents.text or "", pades_trust, now or clock.now())


def normalised_text(text: str) -> str:
    """NFC, case-folded, without white space and control characters: lines may break
    anywhere on the page, and characters the font cannot draw are not on it."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFC", text).casefold()
        if not ch.isspace() and unicodedata.category(ch)[0] != "C"
    )


def page_shows(text: str, payload: dict[str, Any]) -> bool:
    """The page's text carries the signed holder's name and the signed title."""
    page = normalised_text(text)
    wanted = [payload.get("holder"), payload.get("title")]
    return all(isinstance(w, str) and normalised_text(w) in page for w in wanted)


def _check_document(
    check: PdfCheck, data: bytes, text: str, trust: pades.Trust, now: dt.datetime
) -> PdfCheck:
    document = pades.validate(data, trust, now)
    shows = page_shows(text, check.payload)
    if document.state is pades.Document.BROKEN:
        page, outcome, detail = Page.BROKEN, Outcome.ALTERED, document.detail
    elif not shows:
        page, outcome = Page.TEXT, Outcome.ALTERED
        detail = "the page does not show the signed name and title"
    elif document.state is pades.Document.SIGNED:
        page, outcome, detail = Page.SIGNED, Outcome.VALID, ""
    else:
        issued = check.issued_at
        before = trust.since is None or (issued is not None and issued <= trust.since)
        page = Page.MISSING
        outcome = Outcome.UNCONFIRMED if before else Outcome.ALTERED
        detail = "no PDF signature" + ("" if before else " on a certificate issued since")
    return dataclasses.replace(
        check, outcome=outcome, document=page, detail=detail, timestamped=document.timestamped
    )


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
