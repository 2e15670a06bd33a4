"""Checking a badge of this installation: the VC-JWT or the JSON credential with its
Data Integrity proof, its issuer, its dates and, given the published status list,
whether it was revoked.

Inputs are size-checked before any parsing. The public credential page and the tests'
second verifier use it; it needs the application (the installation's DID) but no
database.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from certificates import data_integrity, did, status_list, vc_jwt
from certificates.data_integrity import ProofError
from certificates.openbadges import CONTEXTS
from certificates.signing import parse_timestamp
from lms import clock

MAX_INPUT_CHARS = 256 * 1024  # credential or JWT to verify; refused unread past this


class Outcome(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class BadgeVerification:
    outcome: Outcome
    form: str | None = None  # "jwt" or "data-integrity"
    key_id: str | None = None
    credential: dict[str, Any] | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.VALID

    @property
    def signature_ok(self) -> bool:
        """The signature holds (whatever the dates and the status say)."""
        return self.outcome in {
            Outcome.VALID,
            Outcome.REVOKED,
            Outcome.EXPIRED,
            Outcome.NOT_YET_VALID,
        }


def _parse(value: str | bytes | dict[str, Any]) -> str | dict[str, Any]:
    """A JWT (str) or a credential (dict), size-checked before any parsing."""
    if isinstance(value, dict):
        if len(json.dumps(value, ensure_ascii=False)) > MAX_INPUT_CHARS:
            raise OverflowError
        return value
    if isinstance(value, bytes):
        if len(value) > MAX_INPUT_CHARS * 4:
            raise OverflowError
        value = value.decode("utf-8")
    if len(value) > MAX_INPUT_CHARS:
        raise OverflowError
    text = value.strip()
    if text.startswith("{"):
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("not a JSON object")
        return parsed
    return text


def _check_issuer(credential: dict[str, Any]) -> None:
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != did.issuer_id():
        raise ProofError("the issuer is not this installation")
    types = credential.get("type")
    if not isinstance(types, list) or not {"OpenBadgeCredential", "AchievementCredential"} & set(
        map(str, types)
    ):
        raise ProofError("not an OpenBadgeCredential")
    if not isinstance(credential.get("credentialSubject"), dict):
        raise ProofError("no credentialSubject")
    if "proof" in credential and isinstance(credential["proof"], dict):
        method = credential["proof"].get("verificationMethod")
        if did.key_id_of_method(str(method)) is None:
            raise ProofError("the proof's key is not this installation's")


def _status_index(credential: dict[str, Any]) -> tuple[str, int] | None:
    status = credential.get("credentialStatus")
    if not isinstance(status, dict):
        return None
    if status.get("type") != "BitstringStatusListEntry" or status.get("statusPurpose") != (
        status_list.PURPOSE
    ):
        return None
    index = str(status.get("statusListIndex", ""))
    if not index.isdigit() or len(index) > 12:
        raise ProofError("statusListIndex is not a number")
    return str(status.get("statusListCredential")), int(index)


def _revoked(
    credential: dict[str, Any],
    status_credential: dict[str, Any],
    public_keys: Mapping[str, Ed25519PublicKey],
) -> bool:
    entry = _status_index(credential)
    if entry is None:
        return False
    url, index = entry
    if status_credential.get("id") != url:
        raise ProofError("the status list given is not the credential's")
    proof = data_integrity.proof_of(status_credential)
    list_key = did.key_id_of_method(proof["verificationMethod"])
    if list_key is None or list_key not in public_keys:
        raise ProofError("the status list is not signed by this installation")
    if not data_integrity.verify_proof(
        status_credential, public_keys[list_key], [data_integrity.VC_V2_CONTEXT]
    ):
        raise ProofError("the status list's signature does not verify")
    if status_credential.get("issuer") != did.issuer_id():
        raise ProofError("the status list is not this installation's")
    subject = status_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != status_list.PURPOSE:
        raise ProofError("not a revocation status list")
    return status_list.is_revoked(str(subject.get("encodedList")), index)


def verify(
    credential_or_jwt: str | bytes | dict[str, Any],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    now: dt.datetime | None = None,
    status_list_credential: dict[str, Any] | None = None,
) -> BadgeVerification:
    """Check a badge of this installation: a VC-JWT (compact JWS) or the JSON credential
    with its eddsa-rdfc-2022 proof; with ``status_list_credential`` (as published by
    :func:`status_list.credential`), also whether it was revoked. Needs the app (for the
    installation's DID) but no database: ``public_keys`` are ``keys.public_keys(...)``.
    """
    now = now or clock.now()
    try:
        parsed = _parse(credential_or_jwt)
    except OverflowError:
        return BadgeVerification(Outcome.TOO_LARGE, reason="input too large")
    except (ValueError, UnicodeError, RecursionError) as error:
        return BadgeVerification(Outcome.MALFORMED, reason=str(error)[:200])
    form = "jwt" if isinstance(parsed, str) else "data-integrity"
    key_id: str | None = None
    try:
        if isinstance(parsed, str):
            header = vc_jwt.header_of(parsed)
            key_id = did.key_id_of_method(header["kid"])
            if key_id is None or key_id not in public_keys:
                return BadgeVerification(Outcome.UNKNOWN_KEY, form, key_id)
            payload = vc_jwt.verify(parsed, public_keys[key_id])
            if payload is None:
                return BadgeVerification(Outcome.BAD_SIGNATURE, form, key_id)
            credential = vc_jwt.credential_of(payload)
        else:
            credential = parsed
            proof = data_integrity.proof_of(credential)
            key_id = did.key_id_of_method(proof["verificationMethod"])
            if key_id is None or key_id not in public_keys:
                return BadgeVerification(Outcome.UNKNOWN_KEY, form, key_id)
            if not data_integrity.verify_proof(credential, public_keys[key_id], CONTEXTS):
                return BadgeVerification(Outcome.BAD_SIGNATURE, form, key_id)
        _check_issuer(credential)
        valid_from = parse_timestamp(credential.get("validFrom"))
        if valid_from is None:
            raise ProofError("no validFrom")
        valid_until = parse_timestamp(credential.get("validUntil"))
        revoked = status_list_credential is not None and _revoked(
            credential, status_list_credential, public_keys
        )
    except (ProofError, vc_jwt.TokenError, status_list.StatusListError) as error:
        return BadgeVerification(Outcome.MALFORMED, form, key_id, reason=str(error)[:200])
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        return BadgeVerification(
            Outcome.MALFORMED, form, key_id, reason=type(error).__name__ + ": " + str(error)[:200]
        )
    if revoked:
        outcome = Outcome.REVOKED
    elif valid_from > now:
        outcome = Outcome.NOT_YET_VALID
    elif valid_until is not None and valid_until <= now:
        outcome = Outcome.EXPIRED
    else:
        outcome = Outcome.VALID
    return BadgeVerification(outcome, form, key_id, credential)
