"""Signing credentials with the installation's Ed25519 keys (badges and the status list).

Kept apart from ``openbadges`` so that the status list, which the badges point to,
can be signed without importing the badges.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from certificates import data_integrity, did, keys
from certificates.models import SigningKeyRecord


def signing_key(session: Session, key_id: str | None) -> keys.SigningKey:
    """``key_id``'s key if its private half is here, else the current key."""
    secret = current_app.config["LMS_SECRET_KEY"]
    if key_id:
        record = session.get(SigningKeyRecord, key_id)
        if record is not None and record.private_sealed is not None:
            return keys.SigningKey(key_id, keys.unseal(record.private_sealed, key_id, secret))
    return keys.signing_key(session, secret)


def secure(
    session: Session, document: dict[str, Any], *, key_id: str | None, now: dt.datetime
) -> dict[str, Any]:
    """``document`` with its Data Integrity proof by ``key_id`` (or the current key)."""
    key = signing_key(session, key_id)
    return data_integrity.add_proof(
        document, key.private_key, did.verification_method(key.key_id), now
    )
