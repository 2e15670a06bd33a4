"""The signed payload: canonical JSON bytes and an Ed25519 signature over them.

The PDF carries two attachments: ``certificate.json`` (the payload, exactly the
signed bytes) and ``certificate.sig`` (JSON: algorithm, key id, base64
signature). The key id is also inside the payload, so a signature cannot be
moved to another key's name without breaking it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from certificates.keys import SigningKey

PAYLOAD_FORMAT = "lms-certificate/1"
ALGORITHM = "Ed25519"
PAYLOAD_NAME = "certificate.json"
SIGNATURE_NAME = "certificate.sig"


def timestamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def canonical(data: dict[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same dict always gives the same bytes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(payload: bytes, key: SigningKey) -> str:
    return base64.b64encode(key.private_key.sign(payload)).decode("ascii")


def signature_document(key_id: str, signature: str) -> bytes:
    return canonical({"alg": ALGORITHM, "key_id": key_id, "signature": signature})


def parse_signature_document(data: bytes) -> tuple[str, bytes] | None:
    """(key id, raw signature) or None if the document is not one of ours."""
    try:
        doc = json.loads(data)
        if doc.get("alg") != ALGORITHM or not isinstance(doc.get("key_id"), str):
            return None
        return doc["key_id"], base64.b64decode(doc["signature"], validate=True)
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        return None


def signature_matches(public_key: Ed25519PublicKey, payload: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True
