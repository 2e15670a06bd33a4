"""Open Badges 3.0 credentials as VC-JWT (OB 3.0 section 8.2, "JSON Web Token Proof Format").

A compact JWS whose payload is the credential itself (with its Data Integrity proof, made
first as the specification asks) plus the registered claims ``iss`` (issuer.id), ``jti``
(id), ``nbf`` (validFrom), ``exp`` (validUntil, when there is one) and ``sub``
(credentialSubject.id, when the subject has one: a holder known only by a hashed e-mail
has none). The JOSE header is ``alg`` EdDSA, ``kid`` the DID verification method and
``typ`` "JWT"; OB 3.0 allows no other header.

JOSE through joserfc. Its registry warns that RFC 9864 deprecates the polymorphic
"EdDSA" in favour of "Ed25519"; OB 3.0 verifiers and wallets expect "EdDSA" (and it is
the same Ed25519 signature), so a registry of our own allows exactly that one algorithm,
without the warning.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm, JWSRegistry
from joserfc.jwk import OKPKey

from certificates.signing import parse_timestamp

ALGORITHM = "EdDSA"
MAX_TOKEN_CHARS = 256 * 1024  # a credential is a few KB; anything larger is refused unread


class _EdDSA(EdDSAAlgorithm):
    security_warning = None


class _Registry(JWSRegistry):
    algorithms = {ALGORITHM: _EdDSA()}  # noqa: RUF012 (joserfc's class-level table)
    recommended = [ALGORITHM]  # noqa: RUF012
    max_payload_length = MAX_TOKEN_CHARS


def _registry() -> _Registry:
    return _Registry(algorithms=[ALGORITHM])


class TokenError(ValueError):
    """Not a compact JWS of ours (shape, size, header or claims)."""


def _numeric(value: str | None) -> int | None:
    moment = parse_timestamp(value)
    return int(moment.timestamp()) if moment is not None else None


def claims_for(credential: dict[str, Any]) -> dict[str, Any]:
    """The credential with OB 3.0's JWT claims added."""
    payload = dict(credential)
    issuer = credential["issuer"]
    payload["iss"] = issuer["id"] if isinstance(issuer, dict) else issuer
    payload["jti"] = credential["id"]
    payload["nbf"] = _numeric(credential["validFrom"])
    if credential.get("validUntil"):
        payload["exp"] = _numeric(credential["validUntil"])
    subject_id = credential["credentialSubject"].get("id")
    if subject_id:
        payload["sub"] = subject_id
    return payload


def sign(credential: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> str:
    header = {"alg": ALGORITHM, "kid": kid, "typ": "JWT"}
    body = json.dumps(claims_for(credential), ensure_ascii=False, separators=(",", ":"))
    return jws.serialize_compact(
        header, body.encode("utf-8"), OKPKey.import_key(private_key), registry=_registry()
    )


def header_of(token: str) -> dict[str, Any]:
    """The protected header, read before choosing a key (nothing trusted yet)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenError("not a compact JWS")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as error:
        raise TokenError(f"unreadable JWS header: {error}") from None
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise TokenError("JWS header is not alg EdDSA with a kid")
    if set(header) - {"alg", "kid", "typ"} or header.get("typ", "JWT") != "JWT":
        raise TokenError("JWS header has fields OB 3.0 does not allow")
    return header


def verify(token: str, public_key: Ed25519PublicKey) -> dict[str, Any] | None:
    """The payload if the signature is ``public_key``'s, else None (bad shape raises)."""
    header_of(token)
    try:
        obj = jws.deserialize_compact(token, OKPKey.import_key(public_key), registry=_registry())
    except JoseError as error:
        if type(error).__name__ == "BadSignatureError":
            return None
        raise TokenError(f"unreadable JWS: {error}") from None
    try:
        payload = json.loads(obj.payload)
    except ValueError:
        raise TokenError("JWS payload is not JSON") from None
    if not isinstance(payload, dict):
        raise TokenError("JWS payload is not an object")
    return payload


def credential_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential in a verified payload, its claims checked against it (OB 3.0
    8.2.4.1); a mismatch raises."""
    credential = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
    try:
        expected = claims_for(_credential_only(credential))
    except (KeyError, TypeError, AttributeError, ValueError):
        raise TokenError("JWS payload is not a credential") from None
    for claim in ("iss", "jti", "nbf", "exp", "sub"):
        if payload.get(claim) != expected.get(claim):
            raise TokenError(f"JWT claim {claim} does not match the credential")
    return _credential_only(credential)


def _credential_only(credential: dict[str, Any]) -> dict[str, Any]:
    try:
        return {k: v for k, v in credential.items() if k not in {"iss", "jti", "nbf", "exp", "sub"}}
    except AttributeError:
        raise TokenError("JWS payload is not a credential") from None
