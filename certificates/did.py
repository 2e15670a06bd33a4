"""The installation as a ``did:web`` issuer: its DID, DID document and Open Badges profile.

The DID is derived from ``LMS_BASE_URL`` and the certificates blueprint's path, so that
the did:web method's resolution rule (``did:web:host%3Aport:a:b`` -> ``https://host:port/a
/b/did.json``) lands on the document the certificates blueprint serves at
``<base>/certificates/did.json``. Every Ed25519 key the installation ever signed with is
in the document, as a ``Multikey``: what an old key signed keeps verifying after rotation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from sqlalchemy.orm import Session

from certificates import keys
from certificates.config import external_url

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
ED25519_PUB_MULTICODEC = b"\xed\x01"  # varint of 0xed, the ed25519-pub multicodec


def base_url() -> str:
    return str(current_app.config["LMS_BASE_URL"]).rstrip("/")


def issuer_id() -> str:
    """``did:web:<host>[%3A<port>]:<path segments>:certificates`` for this installation."""
    parts = urlsplit(external_url("certificates.mine"))
    host = quote(parts.netloc, safe="")  # "host:port" -> "host%3Aport"
    segments = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *segments])


def verification_method(key_id: str) -> str:
    return f"{issuer_id()}#{key_id}"


def key_id_of_method(method: str) -> str | None:
    """The key id of one of our verification methods, or None if it is not ours."""
    did, sep, fragment = method.partition("#")
    if not sep or did != issuer_id() or not fragment:
        return None
    return fragment


def multikey(public_key: Ed25519PublicKey) -> str:
    """``publicKeyMultibase``: base58btc ("z") of the multicodec prefix and the raw key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(ED25519_PUB_MULTICODEC + raw).decode("ascii")


def document(session: Session) -> dict[str, Any]:
    """The DID document: every key ever used (oldest first), for assertion and auth."""
    did = issuer_id()
    methods = [
        {
            "id": f"{did}#{key_id}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey(public_key),
        }
        for key_id, public_key in keys.public_keys(session).items()
    ]
    ids = [method["id"] for method in methods]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def issuer_profile(name: str | None = None) -> dict[str, Any]:
    """The Open Badges ``Profile`` of the installation; ``name`` defaults to the
    configured issuer (a credential passes the name its certificate was signed with)."""
    return {
        "id": issuer_id(),
        "type": ["Profile"],
        "name": name or str(current_app.config["LMS_CERT_ISSUER"]),
        "url": base_url(),
    }
