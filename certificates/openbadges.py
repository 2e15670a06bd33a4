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

import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates import accreditation, data_integrity, did, pdf, securing, status_list, vc_jwt
from certificates.config import external_url
from certificates.data_integrity import OB_V3_CONTEXT, VC_V2_CONTEXT
from certificates.models import Certificate, CertificateKind, OpenBadge
from certificates.signing import timestamp
from lms import audit, clock
from lms.errors import ServiceError

CONTEXTS = [VC_V2_CONTEXT, OB_V3_CONTEXT]
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


def credential_url(cert: Certificate, subject_did: str | None = None) -> str:
    """The credential's id; the certificates blueprint serves the badge there. A badge
    made for the holder's DID is another credential: its id names the DID."""
    url = external_url("certificates.mine") + "credentials/" + cert.code
    return f"{url}?did={quote(subject_did, safe='')}" if subject_did else url


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
        "id": credential_url(cert, subject_did),
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
    audit.record(
        session,
        "certificate.open_badge",
        actor=cert.user,
        organisation_id=cert.organisation_id,
        object_type="certificate",
        object_id=cert.serial,
        subject_id=cert.user_id,
        details={"subject": subject_id or "e-mail (impronta salata)"},
        at=now,
    )
    return badge


def credential_json(badge: OpenBadge) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(badge.credential)
    return data
