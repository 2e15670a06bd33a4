"""A certificate's data in the European Learning Model (ELM 3), ready to be sealed.

European Digital Credentials for Learning (EDC) are W3C Verifiable Credentials in
JSON-LD whose vocabulary is the ELM, sealed under eIDAS by the awarding body with an
advanced or qualified electronic seal (the EDC Issuer, or any EDC-compatible issuer,
does the sealing). This platform holds no such seal, so it exports the data only: an
unsealed ``EuropeanDigitalCredential`` with no ``proof`` and no ``signatures``, which an
installation holding a seal imports into the EDC tools, completes (issuer's eIDAS legal
identifier, display) and seals there. Nothing here imitates a seal (docs/europass.md).

``credential`` is a pure function of the stored certificate and its verification link:
only what the certificate carries, nothing read from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from certificates import accreditation
from certificates.models import Certificate

CONTEXT = [
    "https://www.w3.org/2018/credentials/v1",
    "http://data.europa.eu/snb/model/context/edc-ap",
]
#: The EDC application profile the document declares (its SHACL shapes).
SCHEMA = {"id": "http://data.europa.eu/snb/model/ap/edc-generic-full", "type": "ShaclValidator2017"}
#: ELM's "Generic" credential profile (credential types vocabulary).
GENERIC_PROFILE = {
    "id": "http://data.europa.eu/snb/credential/e34929035b",
    "type": "Concept",
    "inScheme": {"id": "http://data.europa.eu/snb/credential/25831c2", "type": "ConceptScheme"},
    "prefLabel": {"en": ["Generic"]},
}
LANGUAGE = "it"  # the certificates are issued in Italian


def volume_of_learning(hours: float) -> str:
    """Hours as an ISO 8601 duration, to the minute: 7.5 -> ``PT7H30M``, 8 -> ``PT8H``."""
    minutes = max(0, round(float(hours) * 60))
    whole, rest = divmod(minutes, 60)
    if rest == 0:
        return f"PT{whole}H"
    return f"PT{whole}H{rest}M" if whole else f"PT{rest}M"


def _text(value: str) -> dict[str, list[str]]:
    """An ELM language map (``{"it": ["..."]}``)."""
    return {LANGUAGE: [value]}


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _note(number: int, text: str) -> dict[str, Any]:
    return {"id": f"urn:epass:note:{number}", "type": "Note", "noteLiteral": _text(text)}


def _notes(cert: Certificate) -> list[str]:
    """What the certificate states that ELM has no plain field for here: the course's
    version, the holder's organisation, professional credits and the accreditation."""
    notes = [f"Versione del corso: {cert.version_label}"]
    if cert.organisation_name:
        notes.append(f"Organizzazione di appartenenza: {cert.organisation_name}")
    if cert.credits:
        notes.append(f"Crediti formativi: {cert.credits}")
    found = accreditation.read(cert.accreditation)
    if found is not None:
        parts = [f"Accreditamento: {found.body}"]
        if found.provider:
            parts.append(f"provider {found.provider}")
        if found.event:
            parts.append(f"evento {found.event}")
        parts.append(f"{found.credits} crediti")
        if found.valid_from or found.valid_until:
            period = " – ".join(
                d.isoformat() if d else "…" for d in (found.valid_from, found.valid_until)
            )
            parts.append(f"periodo {period}")
        parts.append(
            "completamento nel periodo" if found.covered else "completamento fuori periodo"
        )
        notes.append(", ".join(parts))
    return notes


def credential(cert: Certificate, verify_url: str) -> dict[str, Any]:
    """The certificate as an unsealed ELM 3 ``EuropeanDigitalCredential`` (JSON-LD)."""
    awarding_body = {
        "id": "urn:epass:org:1",
        "type": "Organisation",
        "legalName": _text(cert.issuer),
    }
    specification: dict[str, Any] = {
        "id": "urn:epass:learningAchievementSpec:1",
        "type": "LearningAchievementSpecification",
        "title": _text(cert.title),
    }
    if cert.printed_hours is not None:
        specification["volumeOfLearning"] = volume_of_learning(cert.printed_hours)
    achievement: dict[str, Any] = {
        "id": "urn:epass:learningAchievement:1",
        "type": "LearningAchievement",
        "title": _text(cert.title),
        "awardedBy": {
            "id": "urn:epass:awardingProcess:1",
            "type": "AwardingProcess",
            "awardingBody": [awarding_body],
            "awardingDate": _instant(cert.completed_at),
        },
        "specifiedBy": specification,
        "additionalNote": [_note(n, text) for n, text in enumerate(_notes(cert), start=1)],
        "supplementaryDocument": [
            {
                "id": "urn:epass:webResource:1",
                "type": "WebResource",
                "contentURL": verify_url,
                "title": _text(f"Verifica dell'attestato {cert.serial}"),
            }
        ],
    }
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"urn:credential:{uuid.uuid5(uuid.NAMESPACE_URL, verify_url)}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialSchema": [SCHEMA],
        "credentialProfiles": [GENERIC_PROFILE],
        # The awarding body; the sealing issuer replaces it with its own record (with
        # the eIDAS legal identifier the EDC tools require).
        "issuer": awarding_body,
        "issuanceDate": _instant(cert.issued_at),
        "issued": _instant(cert.issued_at),
        "validFrom": _instant(cert.issued_at),
        "credentialSubject": {
            "id": "urn:epass:person:1",
            "type": "Person",
            "fullName": _text(cert.holder_name),
            "hasClaim": [achievement],
        },
    }
    if cert.expires_at is not None:
        document["expirationDate"] = _instant(cert.expires_at)
    return document


def credential_json(cert: Certificate, verify_url: str) -> bytes:
    return json.dumps(credential(cert, verify_url), ensure_ascii=False, indent=2).encode("utf-8")


def filename(cert: Certificate) -> str:
    """Says what it is: ELM data, not sealed."""
    return f"{cert.serial}_europass-elm-non-sigillato.json"
