"""Revocation published as a W3C Bitstring Status List (one list for the installation).

Each certificate's credential points at bit ``certificate.id`` of the list at
``<base>/certificates/credentials/status/revocation``; a revoked certificate (revoked or
re-issued) has its bit set. The list credential is made on request, so revocation is
visible at once: a bitstring of at least 16 KB (131,072 entries, the specification's
minimum for group privacy), GZIP-compressed and multibase base64url-encoded ("u..."),
in a ``BitstringStatusListCredential`` signed like the badges.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import zlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certificates import did, securing
from certificates.config import external_url
from certificates.data_integrity import VC_V2_CONTEXT
from certificates.models import Certificate
from certificates.signing import timestamp
from lms import clock

PURPOSE = "revocation"
MIN_ENTRIES = 131_072  # 16 KB: the minimum length the specification sets
MAX_ENCODED_CHARS = 1_000_000  # an encoded list to decode is refused past this
MAX_LIST_BYTES = 16 * 1024 * 1024  # ... and its bitstring past this (zip bombs)


class StatusListError(ValueError):
    """An encoded list that cannot be read (shape, size, compression)."""


def list_url() -> str:
    """The status list credential's URL (served by the certificates blueprint)."""
    return external_url("certificates.mine") + "credentials/status/" + PURPOSE


def entry(cert: Certificate) -> dict[str, Any]:
    """The certificate's ``credentialStatus``."""
    url = list_url()
    return {
        "id": f"{url}#{cert.id}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": str(cert.id),
        "statusListCredential": url,
    }


def encode(revoked: set[int], size: int) -> str:
    """The bitstring with ``revoked`` indexes set (index 0 is the left-most bit)."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode(encoded_list: str) -> bytes:
    """The bitstring of an ``encodedList``, bounded before and while decompressing."""
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url")
    if len(encoded_list) > MAX_ENCODED_CHARS:
        raise StatusListError("encodedList is too long")
    body = encoded_list[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise StatusListError("encodedList is not base64url") from None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        bits = inflater.decompress(compressed, MAX_LIST_BYTES)
    except zlib.error:
        raise StatusListError("encodedList is not GZIP data") from None
    if inflater.unconsumed_tail:
        raise StatusListError("status list is too large")
    return bits


def is_revoked(encoded_list: str, index: int) -> bool:
    """Whether bit ``index`` is set (an index beyond the list is an error)."""
    bits = decode(encoded_list)
    if index < 0 or index // 8 >= len(bits):
        raise StatusListError("index outside the status list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_size(highest_id: int) -> int:
    """Entries in the list: the minimum, or enough for every id, in whole bytes."""
    needed = highest_id + 1
    return max(MIN_ENTRIES, (needed + 7) // 8 * 8)


def unsigned(session: Session, now: dt.datetime) -> dict[str, Any]:
    revoked = set(
        session.scalars(select(Certificate.id).where(Certificate.revoked_at.is_not(None)))
    )
    highest = session.scalar(select(func.max(Certificate.id))) or 0
    url = list_url()
    return {
        "@context": [VC_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did.issuer_id(),
        "validFrom": timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encode(revoked, list_size(highest)),
        },
    }


def credential(session: Session) -> dict[str, Any]:
    """The signed status list credential, as of now."""
    now = clock.now()
    return securing.secure(session, unsigned(session, now), key_id=None, now=now)
