"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa).

Signing: canonicalise the proof configuration (the proof without ``proofValue``, with the
document's ``@context``) and the document (without ``proof``) with RDF Dataset
Canonicalization (RDFC-1.0, which PyLD names ``URDNA2015``), hash each with SHA-256, sign
``proofConfigHash || documentHash`` with Ed25519 and put the signature in ``proofValue``
as multibase base58btc (``z...``).

JSON-LD processing loads contexts only from the copies in ``certificates/jsonld/``
(:data:`CONTEXTS`): an unknown context fails, nothing is ever fetched from the network.

The signature covers the RDF dataset, while a verifier's checks (dates, status, issuer)
read the JSON. :func:`verify_proof` therefore also checks that the JSON says exactly what
was signed (Data Integrity's "context validation"): the ``@context`` is the one expected,
no property is dropped by expansion (it would not be signed), every ``id`` is an IRI that
RDF keeps, and the document is the compacted form of its own expansion (a signed member
re-spelled as a full IRI, or wrapped in an extra array, would otherwise hide from the JSON
reader: a ``credentialStatus`` the verifier no longer sees, a ``validUntil`` it skips).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import re
from pathlib import Path
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pyld import jsonld
from pyld.documentloader.frozen import FrozenDocumentLoader

from certificates.signing import timestamp

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

_DIR = Path(__file__).parent / "jsonld"
CONTEXTS: dict[str, Path] = {
    VC_V2_CONTEXT: _DIR / "credentials-v2.jsonld",
    OB_V3_CONTEXT: _DIR / "ob-context-3.0.3.json",
}


_IRI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


class ProofError(ValueError):
    """The document cannot be signed or checked (unknown context, malformed proof)."""


@functools.lru_cache(maxsize=1)
def document_loader() -> FrozenDocumentLoader:
    """Serves only the vendored contexts (one per process: it caches what it parsed)."""
    return FrozenDocumentLoader(documents=CONTEXTS)


def canonical_nquads(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (vendored contexts only)."""
    try:
        return jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader(),
            },
        )
    except jsonld.JsonLdError as error:
        raise ProofError(f"JSON-LD processing failed: {error}") from None


def hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """``SHA-256(canonical proof config) || SHA-256(canonical document)``."""
    config_hash = hashlib.sha256(canonical_nquads(proof_config).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonical_nquads(document).encode("utf-8")).digest()
    return config_hash + document_hash


def add_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: dt.datetime,
) -> dict[str, Any]:
    """A copy of ``document`` with its ``eddsa-rdfc-2022`` proof (purpose assertionMethod)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {
        "@context": unsecured["@context"],
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = private_key.sign(hash_data(unsecured, config))
    proof = {k: v for k, v in config.items() if k != "@context"}
    proof["proofValue"] = "z" + base58.b58encode(signature).decode("ascii")
    secured = copy.deepcopy(unsecured)
    secured["proof"] = proof
    return secured


def proof_of(document: dict[str, Any]) -> dict[str, Any]:
    """The document's single eddsa-rdfc-2022 proof, checked for shape."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("no single proof object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("not an eddsa-rdfc-2022 Data Integrity proof")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("proof purpose is not assertionMethod")
    for name in ("verificationMethod", "proofValue"):
        if not isinstance(proof.get(name), str):
            raise ProofError(f"proof has no {name}")
    return proof


def _loader_options() -> dict[str, Any]:
    return {"documentLoader": document_loader()}


def _same_shape(value: Any) -> Any:
    """The JSON with the one spelling difference compaction makes: a one-element array
    and its element (never for an array inside an array: that is refused)."""
    if isinstance(value, list):
        if any(isinstance(item, list) for item in value):
            raise ProofError("an array inside an array")
        items = [_same_shape(item) for item in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {key: _same_shape(item) for key, item in value.items()}
    return value


def _check_ids(value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _check_ids(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in {"id", "@id"} and not (isinstance(item, str) and _IRI_RE.fullmatch(item)):
                raise ProofError("an id that is not an absolute IRI")
            _check_ids(item)


def validate_context(document: dict[str, Any], expected_context: list[str]) -> None:
    """The JSON says what the signed dataset says (see the module's docstring)."""
    if document.get("@context") != expected_context:
        raise ProofError("unexpected @context")
    dropped: list[str] = []
    try:
        expanded = jsonld.expand(
            document, _loader_options(), on_property_dropped=lambda name: dropped.append(name)
        )
        if dropped:
            raise ProofError(f"properties no context defines: {sorted(set(map(str, dropped)))}")
        compacted = jsonld.compact(expanded, {"@context": expected_context}, _loader_options())
    except jsonld.JsonLdError as error:
        raise ProofError(f"JSON-LD processing failed: {error}") from None
    _check_ids(document)
    if _same_shape(compacted) != _same_shape(document):
        raise ProofError("the JSON is not the compacted form of what was signed")


def verify_proof(
    document: dict[str, Any],
    public_key: Ed25519PublicKey,
    expected_context: list[str] | None = None,
) -> bool:
    """Whether the proof of ``document`` was made by ``public_key`` over this content;
    with ``expected_context``, also whether its JSON is exactly what was signed (raises
    :class:`ProofError` if not)."""
    proof = proof_of(document)
    value = proof["proofValue"]
    if not value.startswith("z") or len(value) > 200:
        raise ProofError("proofValue is not multibase base58btc")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise ProofError("proofValue is not base58btc") from None
    if len(signature) != 64:
        raise ProofError("proofValue is not an Ed25519 signature")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" not in unsecured:
        raise ProofError("document has no @context")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = unsecured["@context"]
    try:
        public_key.verify(signature, hash_data(unsecured, config))
    except InvalidSignature:
        return False
    if expected_context is not None:
        validate_context(unsecured, expected_context)
        validate_context(config, expected_context)
    return True
