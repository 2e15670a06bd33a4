"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa).

Signing: canonicalise the proof configuration (the proof without ``proofValue``, with the
document's ``@context``) and the document (without ``proof``) with RDF Dataset
Canonicalization (RDFC-1.0, which PyLD names ``URDNA2015``), hash each with SHA-256, sign
``proofConfigHash || documentHash`` with Ed25519 and put the signature in ``proofValue``
as multibase base58btc (``z...``).

JSON-LD processing loads contexts only from the copies in ``certificates/jsonld/``
(:data:`CONTEXTS`): an unknown context fails, nothing is ever fetched from the network.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
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
                "safe": True,  # a term that does not expand is an error, not dropped
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


def verify_proof(document: dict[str, Any], public_key: Ed25519PublicKey) -> bool:
    """Whether the proof of ``document`` was made by ``public_key`` over this content."""
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
    return True
