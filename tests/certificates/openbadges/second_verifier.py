"""A second verifier for the platform's Open Badges, written from the specifications only.

Nothing here imports the platform's code: it reads the DID document (W3C DID Core,
did:web, Multikey from Controlled Identifiers 1.0), the VC-JWT (RFC 7515 compact JWS,
RFC 8037 EdDSA, OB 3.0 section 8.2 claims), the ``eddsa-rdfc-2022`` proof (W3C
vc-di-eddsa 3.3: RDFC-1.0 via PyLD, then its own SHA-256 hashing and Ed25519 check) and
the Bitstring Status List (W3C, GZIP + multibase base64url) with its own decoders:
base64url, base58btc, multibase, the multicodec varint. Ed25519 itself is
``cryptography``'s.

Every check raises :class:`Rejected` with the reason; a clean return means verified.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_PUB = 0xED
MAX_TOKEN = 512 * 1024
MAX_STATUS_BITS_BYTES = 16 * 1024 * 1024

_CONTEXT_DIR = Path(__file__).resolve().parents[3] / "certificates" / "jsonld"
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": _CONTEXT_DIR / "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": _CONTEXT_DIR
    / "ob-context-3.0.3.json",
}


class Rejected(Exception):
    """The credential does not verify; ``str()`` says why."""


# --- Encodings ---------------------------------------------------------------------------


def b64url_decode(text: str) -> bytes:
    """RFC 4648 section 5 without padding (RFC 7515 section 2): strict alphabet."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(text) % 4 == 1:
        raise Rejected("base64url of impossible length")
    bits = 0
    count = 0
    out = bytearray()
    for char in text:
        value = alphabet.find(char)
        if value < 0:
            raise Rejected(f"not base64url: {char!r}")
        bits = (bits << 6) | value
        count += 6
        if count >= 8:
            count -= 8
            out.append((bits >> count) & 0xFF)
    if bits & ((1 << count) - 1):
        raise Rejected("base64url with stray bits")
    return bytes(out)


def b58btc_decode(text: str) -> bytes:
    """Base58 (Bitcoin alphabet): leading "1"s are leading zero bytes."""
    number = 0
    for char in text:
        value = B58_ALPHABET.find(char)
        if value < 0:
            raise Rejected(f"not base58btc: {char!r}")
        number = number * 58 + value
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + body


def multibase_decode(text: str) -> bytes:
    """The multibase prefixes this verifier accepts: "z" base58btc, "u" base64url."""
    if not isinstance(text, str) or not text:
        raise Rejected("empty multibase value")
    if text[0] == "z":
        return b58btc_decode(text[1:])
    if text[0] == "u":
        return b64url_decode(text[1:])
    raise Rejected(f"unsupported multibase prefix {text[0]!r}")


def read_varint(data: bytes) -> tuple[int, int]:
    """Unsigned LEB128 varint (multicodec): (value, bytes used)."""
    value = 0
    for position, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * position)
        if not byte & 0x80:
            return value, position + 1
    raise Rejected("unterminated varint")


def multikey_ed25519(public_key_multibase: str) -> Ed25519PublicKey:
    data = multibase_decode(public_key_multibase)
    codec, used = read_varint(data)
    if codec != ED25519_PUB:
        raise Rejected(f"multicodec {codec:#x} is not ed25519-pub")
    raw = data[used:]
    if len(raw) != 32:
        raise Rejected("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_xsd_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise Rejected(f"not a UTC dateTime: {value!r}")
    return dt.datetime.fromisoformat(value[:-1]).replace(tzinfo=dt.UTC)


# --- The verifier ------------------------------------------------------------------------


class SecondVerifier:
    def __init__(self, did_document: dict[str, Any], *, now: dt.datetime) -> None:
        self.did = did_document["id"]
        self.now = now
        self.methods: dict[str, Ed25519PublicKey] = {}
        for method in did_document.get("verificationMethod", []):
            if method.get("controller") != self.did or method.get("type") != "Multikey":
                continue
            self.methods[method["id"]] = multikey_ed25519(method["publicKeyMultibase"])
        self.assertion = set(did_document.get("assertionMethod", []))

    def key(self, method: Any) -> Ed25519PublicKey:
        """A verification method of the DID, authorised for assertions."""
        if not isinstance(method, str) or not method.startswith(self.did + "#"):
            raise Rejected(f"verification method {method!r} is not the issuer's")
        if method not in self.methods or method not in self.assertion:
            raise Rejected(f"verification method {method!r} is not in the DID document")
        return self.methods[method]

    # -- VC-JWT --

    def verify_jwt(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN:
            raise Rejected("token too large")
        parts = token.split(".")
        if len(parts) != 3:
            raise Rejected("not a compact JWS")
        header = json.loads(b64url_decode(parts[0]))
        if header.get("alg") != "EdDSA":
            raise Rejected(f"alg {header.get('alg')!r}")
        if set(header) - {"alg", "kid", "typ", "jwk"}:
            raise Rejected("unexpected JOSE header")
        signature = b64url_decode(parts[2])
        try:
            self.key(header.get("kid")).verify(signature, (parts[0] + "." + parts[1]).encode())
        except InvalidSignature:
            raise Rejected("JWS signature does not verify") from None
        payload = json.loads(b64url_decode(parts[1]))
        credential = payload.get("vc", payload)
        issuer = credential["issuer"]
        issuer_id = issuer["id"] if isinstance(issuer, dict) else issuer
        if payload.get("iss") != issuer_id or issuer_id != self.did:
            raise Rejected("iss does not match issuer.id")
        if payload.get("jti") != credential.get("id"):
            raise Rejected("jti does not match id")
        valid_from = parse_xsd_datetime(credential.get("validFrom"))
        if payload.get("nbf") != int(valid_from.timestamp()):
            raise Rejected("nbf does not match validFrom")
        if credential.get("validUntil") is not None:
            until = parse_xsd_datetime(credential["validUntil"])
            if payload.get("exp") != int(until.timestamp()):
                raise Rejected("exp does not match validUntil")
        if payload.get("sub") != credential["credentialSubject"].get("id"):
            raise Rejected("sub does not match credentialSubject.id")
        self.check_validity(credential)
        return credential

    # -- Data Integrity, eddsa-rdfc-2022 --

    @staticmethod
    def loader(url: str, options: dict[str, Any]) -> dict[str, Any]:
        path = CONTEXT_FILES.get(url)
        if path is None:
            raise Rejected(f"context {url} is not one this verifier knows")
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(path.read_text("utf-8")),
        }

    @classmethod
    def canonize(cls, document: dict[str, Any]) -> bytes:
        """RDFC-1.0 N-Quads; a property no context defines (so not signed) is refused."""
        dropped: list[str] = []
        jsonld.expand(document, {"documentLoader": cls.loader}, on_property_dropped=dropped.append)
        if dropped:
            raise Rejected(f"terms no context defines: {dropped}")
        nquads = jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": cls.loader,
            },
        )
        return nquads.encode("utf-8")

    def verify_data_integrity(self, secured: dict[str, Any]) -> dict[str, Any]:
        proof = secured.get("proof")
        if not isinstance(proof, dict):
            raise Rejected("no proof")
        if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != (
            "eddsa-rdfc-2022"
        ):
            raise Rejected("not an eddsa-rdfc-2022 proof")
        if proof.get("proofPurpose") != "assertionMethod":
            raise Rejected("proof purpose")
        public_key = self.key(proof.get("verificationMethod"))
        signature = multibase_decode(proof.get("proofValue", ""))
        if not proof["proofValue"].startswith("z") or len(signature) != 64:
            raise Rejected("proofValue is not a base58btc Ed25519 signature")
        unsecured = {k: v for k, v in secured.items() if k != "proof"}
        config = {k: v for k, v in proof.items() if k != "proofValue"}
        config["@context"] = secured["@context"]
        hash_data = (
            hashlib.sha256(self.canonize(config)).digest()
            + hashlib.sha256(self.canonize(unsecured)).digest()
        )
        try:
            public_key.verify(signature, hash_data)
        except InvalidSignature:
            raise Rejected("Data Integrity proof does not verify") from None
        issuer = secured["issuer"]
        if (issuer["id"] if isinstance(issuer, dict) else issuer) != self.did:
            raise Rejected("issuer is not the DID")
        self.check_validity(secured)
        return unsecured

    # -- Validity and status --

    def check_validity(self, credential: dict[str, Any]) -> None:
        if parse_xsd_datetime(credential.get("validFrom")) > self.now:
            raise Rejected("not yet valid")
        until = credential.get("validUntil")
        if until is not None and parse_xsd_datetime(until) <= self.now:
            raise Rejected("expired")

    def revoked(self, credential: dict[str, Any], status_credential: dict[str, Any]) -> bool:
        """Whether the credential's revocation bit is set in the (verified) status list."""
        status = credential["credentialStatus"]
        if status.get("type") != "BitstringStatusListEntry":
            raise Rejected("not a BitstringStatusListEntry")
        if status.get("statusPurpose") != "revocation":
            raise Rejected("not a revocation entry")
        if status_credential.get("id") != status["statusListCredential"]:
            raise Rejected("status list credential is not the one referenced")
        self.verify_data_integrity(status_credential)
        if "BitstringStatusListCredential" not in status_credential.get("type", []):
            raise Rejected("not a BitstringStatusListCredential")
        subject = status_credential["credentialSubject"]
        if subject.get("statusPurpose") != "revocation":
            raise Rejected("status list purpose")
        compressed = multibase_decode(subject["encodedList"])
        if not subject["encodedList"].startswith("u"):
            raise Rejected("encodedList must be multibase base64url")
        bits = gzip.decompress(compressed)
        if len(bits) > MAX_STATUS_BITS_BYTES:
            raise Rejected("status list too large")
        if len(bits) * 8 < 131_072:
            raise Rejected("status list shorter than the 16 KB minimum")
        index = int(status["statusListIndex"])
        if index >= len(bits) * 8:
            raise Rejected("index beyond the list")
        return bool(bits[index // 8] >> (7 - index % 8) & 1)
