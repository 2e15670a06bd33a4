"""Certificates as Open Badges 3.0 ``OpenBadgeCredential`` (VC Data Model 2.0).

A certificate's badge carries only what the certificate states (what was signed into its
PDF): holder identified by a salted SHA-256 hash of the e-mail (salt random per badge,
stored in the credential) or by the DID the holder gave, the course and version as the
achievement with its hours and what completing it required, the issuer as the
installation's ``did:web``, the certificate's dates, and its revocation entry in the
installation's status list. It is signed twice with the installation's Ed25519 key: an
``eddsa-rdfc-2022`` Data Integrity proof inside the JSON, then the same credential as a
VC-JWT. Stored once made (``OpenBadge``), so every download is the same document.

:func:`verify` is our own verifier (the credential page shows its answer); the tests check
every credential again with a verifier written separately from the specifications.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates import accreditation, data_integrity, did, pdf, securing, status_list, vc_jwt
from certificates.config import external_url
from certificates.data_integrity import OB_V3_CONTEXT, VC_V2_CONTEXT, ProofError
from certificates.models import Certificate, CertificateKind, OpenBadge
from certificates.signing import parse_timestamp, timestamp
from lms import clock
from lms.errors import ServiceError

CONTEXTS = [VC_V2_CONTEXT, OB_V3_CONTEXT]
MAX_INPUT_CHARS = 256 * 1024  # credential or JWT to verify; refused unread past this
DID_RE = re.compile(r"did:[a-z0-9]+:[A-Za-z0-9._:%-]+(?:#[A-Za-z0-9._:%-]+)?")
MAX_DID_CHARS = 300  # OpenBadge.subject_id

ACHIEVEMENT_TYPES = {
    CertificateKind.COURSE: "Course",
    CertificateKind.SESSION: "Course",
    CertificateKind.COMMITMENT: "Achievement",
}
# What completing each kind required, in the certificate's language (Italian, as the PDF).
_REQUIRED = {
    CertificateKind.COURSE: "Completamento del corso «{title}», versione {version}",
    CertificateKind.SESSION: "Partecipazione all'incontro di formazione «{title}» ({version})",
    CertificateKind.COMMITMENT: "Adempimento dell'impegno formativo «{title}» ({version})",
}


# --- Addresses ---------------------------------------------------------------------------


def credential_url(cert: Certificate) -> str:
    """The credential's id; the certificates blueprint serves the badge there."""
    return external_url("certificates.mine") + "credentials/" + cert.code


def achievement_url(key: str, version: str) -> str:
    """One stable URL per course (key) and version."""
    return (
        external_url("certificates.mine")
        + "achievements/"
        + quote(key, safe="")
        + "/"
        + quote(version, safe="")
    )


# --- The credential ----------------------------------------------------------------------


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 ``identityHash``: ``sha256$`` and the hex SHA-256 of identity + salt."""
    plain = email.strip().lower() + salt
    return "sha256$" + hashlib.sha256(plain.encode("utf-8")).hexdigest()


def _hours(value: float) -> str:
    """Hours as the Italian PDF prints them (7,5), the narrative being in Italian."""
    return pdf.format_hours(value, "it")


def _narrative(cert: Certificate) -> str:
    kind = CertificateKind(cert.kind)
    lines = [_REQUIRED[kind].format(title=cert.title, version=cert.version_label)]
    if cert.printed_hours is not None:
        unit = "ora" if cert.printed_hours == 1 else "ore"
        lines.append(f"Durata: {_hours(cert.printed_hours)} {unit}.")
    accredited = accreditation.read(cert.accreditation)
    if accredited is not None and accredited.covered:
        event = f", evento {accredited.event}" if accredited.event else ""
        provider = f" (provider {accredited.provider})" if accredited.provider else ""
        lines.append(
            f"Accreditamento: {accredited.body}{provider}{event}: "
            f"{accredited.credits} crediti formativi."
        )
    elif cert.credits:
        lines.append(f"Crediti: {cert.credits}.")
    return "\n".join(line if line.endswith(".") else line + "." for line in lines)


PROTOCOL = (
    "Protocollo Milano per la prevenzione e il contrasto alla violenza maschile contro le "
    "donne (novembre 2023)"
)


def _alignment(cert: Certificate) -> list[dict[str, Any]]:
    """Every certificate aligns to the protocol whose training commitment it serves; a
    commitment's certificate also to the organisation's commitment it fulfils."""
    home = external_url("lms.home") if "lms.home" in current_app.view_functions else None
    found = [
        {
            "type": ["Alignment"],
            "targetName": PROTOCOL,
            "targetDescription": "Impegno dei firmatari a formare il proprio personale e a "
            "tenerlo periodicamente aggiornato",
            "targetUrl": home or did.base_url() + "/",
            "targetType": "ext:Protocol",
        }
    ]
    if cert.kind == CertificateKind.COMMITMENT:
        if "commitments.index" in current_app.view_functions:
            target = external_url("commitments.index")
        else:
            target = did.base_url() + "/"
        found.append(
            {
                "type": ["Alignment"],
                "targetName": cert.title,
                "targetDescription": "Impegno formativo del protocollo della Rete "
                "antiviolenza di Milano",
                "targetUrl": target,
                "targetType": "ext:ProtocolCommitment",
            }
        )
    return found


def achievement(cert: Certificate) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": achievement_url(cert.key, cert.version_label),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[CertificateKind(cert.kind)],
        "name": cert.title,
        "description": f"{cert.title} (versione {cert.version_label})",
        "criteria": {"narrative": _narrative(cert)},
        "version": cert.version_label,
    }
    if cert.printed_hours is not None:
        found["creditsAvailable"] = float(cert.printed_hours)
    found["alignment"] = _alignment(cert)
    return found


def subject(cert: Certificate, *, subject_did: str | None, email: str, salt: str) -> dict[str, Any]:
    found: dict[str, Any] = {"type": ["AchievementSubject"]}
    if subject_did:
        found["id"] = subject_did
    else:
        found["identifier"] = [
            {
                "type": "IdentityObject",
                "identityHash": identity_hash(email, salt),
                "identityType": "emailAddress",
                "hashed": True,
                "salt": salt,
            }
        ]
    found["achievement"] = achievement(cert)
    return found


def unsigned(
    cert: Certificate, *, subject_did: str | None = None, email: str = "", salt: str = ""
) -> dict[str, Any]:
    """The credential of ``cert`` before its proofs."""
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_url(cert),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": did.issuer_profile(cert.issuer),
        "validFrom": timestamp(cert.issued_at),
    }
    if cert.expires_at is not None:
        credential["validUntil"] = timestamp(cert.expires_at)
    credential["name"] = cert.title
    credential["credentialSubject"] = subject(cert, subject_did=subject_did, email=email, salt=salt)
    credential["credentialStatus"] = status_list.entry(cert)
    return credential


# --- Signing and storing -------------------------------------------------------------------


def normalise_did(value: str | None) -> str:
    """The holder's DID as given, checked; "" for none."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > MAX_DID_CHARS or not DID_RE.fullmatch(value):
        raise ServiceError(_("L'identificativo DID non è valido (es. did:key:z6Mk…)."))
    return value


def _stored(session: Session, cert_id: int, subject_id: str) -> OpenBadge | None:
    return session.scalar(
        select(OpenBadge).where(
            OpenBadge.certificate_id == cert_id, OpenBadge.subject_id == subject_id
        )
    )


def badge_for(session: Session, cert: Certificate, *, subject_did: str | None = None) -> OpenBadge:
    """The stored badge of ``cert`` for this subject, made, signed and flushed if new
    (the caller commits). Two requests racing store one: the loser reads the winner's."""
    subject_id = normalise_did(subject_did)
    existing = _stored(session, cert.id, subject_id)
    if existing is not None:
        return existing
    now = clock.now()
    key = securing.signing_key(session, cert.key_id)
    document = unsigned(
        cert,
        subject_did=subject_id or None,
        email=cert.user.email,
        salt=secrets.token_hex(16),
    )
    method = did.verification_method(key.key_id)
    credential = data_integrity.add_proof(document, key.private_key, method, now)
    badge = OpenBadge(
        certificate_id=cert.id,
        subject_id=subject_id,
        credential=json.dumps(credential, ensure_ascii=False, separators=(",", ":")),
        jwt=vc_jwt.sign(credential, key.private_key, method),
        key_id=key.key_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(badge)
            session.flush()
    except IntegrityError:
        winner = _stored(session, cert.id, subject_id)
        if winner is None:
            raise
        return winner
    return badge


def credential_json(badge: OpenBadge) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(badge.credential)
    return data


# --- Verification --------------------------------------------------------------------------


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
