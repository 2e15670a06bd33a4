"""Ed25519 signing keys: one set for the installation, kept in the database.

Every host signs with the same current key and verifies with every key ever used, so a
certificate issued through one host verifies through any other. Rows live in
``certificates_signing_key`` (:class:`certificates.models.SigningKeyRecord`): the
highest generation is current; rotation adds a generation and keeps the old rows.

The private key is stored encrypted (AES-256-GCM, the key id as associated data) under
a key derived from ``LMS_SECRET_KEY`` with HKDF, so a copy of the database alone cannot
sign. Changing the secret therefore needs :func:`rewrap` (``lms certificates keys
rewrap``).

Keys are created by ``lms init-db`` (:func:`install`): it imports the keys earlier
versions kept per host in ``<instance>/certificate-keys/`` (certificates they signed keep
verifying), then creates the first key if there is none. Every creation is an insert
of a unique generation: two hosts racing end up on one key. A database migrated without
``init-db`` (tests, a host app running ``lms db upgrade``) gets its first key the same
way on first use: still in the database, never in a host's own folder.

Each generation also has a PAdES key (ECDSA P-256, or an imported e-seal's key) and its
X.509 certificate, for the PDF signature (``certificates.pades``): sealed the same way,
bound to ``<key id>:pades``. The key and a self-issued certificate are made with the
generation (``ensure``/``rotate`` given the issuer's name), or on first use for rows made
before (a conditional update: racing hosts end with one). Old generations keep their
certificates, so that documents they signed keep validating.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates import pades
from certificates.models import SigningKeyRecord
from lms import clock

KEYS_DIR_NAME = "certificate-keys"  # where earlier versions kept keys, per host
CURRENT = "current"
SEALED_PREFIX = "v1:"
_HKDF_INFO = b"lms certificates signing keys v1"
_PADES_DATA = ":pades"  # associated data suffix: a PAdES key cannot pass for an Ed25519 one
_ATTEMPTS = 5

T = TypeVar("T")


class KeyStoreError(RuntimeError):
    """The keys cannot be used as configured (the message says why and what to do)."""


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True)
class PadesKey:
    """The current generation's PDF signing key and its certificate chain (PEM)."""

    key_id: str
    private_key: pades.PrivateKey
    certificate_pem: str


# --- Pure helpers ----------------------------------------------------------------------


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Short, stable name of a public key: 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _wrapping_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(secret.encode("utf-8"))


def _seal_bytes(raw: bytes, associated: str, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_wrapping_key(secret)).encrypt(nonce, raw, associated.encode("ascii"))
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def _unseal_bytes(sealed: str, associated: str, secret: str, key_id: str) -> bytes:
    if not sealed.startswith(SEALED_PREFIX):
        raise KeyStoreError(f"signing key {key_id}: unknown storage format")
    data = base64.b64decode(sealed[len(SEALED_PREFIX) :])
    try:
        return AESGCM(_wrapping_key(secret)).decrypt(
            data[:12], data[12:], associated.encode("ascii")
        )
    except InvalidTag:
        raise KeyStoreError(
            f"signing key {key_id} was encrypted with another LMS_SECRET_KEY: set the "
            "installation's secret on this host, or rewrap the keys after changing it "
            "(lms certificates keys rewrap)"
        ) from None


def seal(private: Ed25519PrivateKey, key_id: str, secret: str) -> str:
    """The private key encrypted under ``secret``, bound to its id."""
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return _seal_bytes(raw, key_id, secret)


@functools.lru_cache(maxsize=32)
def unseal(sealed: str, key_id: str, secret: str) -> Ed25519PrivateKey:
    """Inverse of :func:`seal` (cached: hosts sign with the same few keys all day)."""
    raw = _unseal_bytes(sealed, key_id, secret, key_id)
    private = Ed25519PrivateKey.from_private_bytes(raw)
    if key_id_of(private.public_key()) != key_id:
        raise KeyStoreError(f"signing key {key_id}: the private key does not match its id")
    return private


def seal_pades(private: pades.PrivateKey, key_id: str, secret: str) -> str:
    """A PAdES private key (PKCS#8) encrypted under ``secret``, bound to ``<key id>:pades``."""
    raw = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _seal_bytes(raw, key_id + _PADES_DATA, secret)


@functools.lru_cache(maxsize=32)
def unseal_pades(sealed: str, key_id: str, secret: str) -> pades.PrivateKey:
    """Inverse of :func:`seal_pades` (cached: one parsed key object per process)."""
    raw = _unseal_bytes(sealed, key_id + _PADES_DATA, secret, key_id)
    private = serialization.load_der_private_key(raw, password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyStoreError(f"PAdES key of {key_id}: neither ECDSA nor RSA")
    return private


# --- The installation's keys -----------------------------------------------------------


def _retrying(session: Session, write: Callable[[], T]) -> T:
    """Run ``write`` in a savepoint; a unique generation or key id taken by another host
    at the same moment makes it read again and retry."""
    for _attempt in range(_ATTEMPTS - 1):
        try:
            with session.begin_nested():
                return write()
        except IntegrityError:
            continue
    with session.begin_nested():
        return write()


def _current(session: Session) -> SigningKeyRecord | None:
    return session.scalars(
        select(SigningKeyRecord).order_by(SigningKeyRecord.generation.desc()).limit(1)
    ).first()


def _pades_material(key_id: str, secret: str, issuer: str) -> tuple[str, str]:
    """A new PAdES key, sealed, and its self-issued certificate (PEM)."""
    private = pades.new_private_key()
    certificate = pades.self_issued_certificate(private, issuer, clock.now())
    return seal_pades(private, key_id, secret), certificate


def _add(
    session: Session, secret: str, generation: int, issuer: str | None = None
) -> SigningKeyRecord:
    private = Ed25519PrivateKey.generate()
    key_id = key_id_of(private.public_key())
    sealed, certificate = _pades_material(key_id, secret, issuer) if issuer else (None, None)
    record = SigningKeyRecord(
        key_id=key_id,
        generation=generation,
        public_pem=public_pem(private.public_key()),
        private_sealed=seal(private, key_id, secret),
        pades_private_sealed=sealed,
        pades_certificate_pem=certificate,
    )
    session.add(record)
    session.flush()
    return record


def ensure(session: Session, secret: str, issuer: str | None = None) -> str | None:
    """Create the installation's first key if it has none (insert-if-absent); with the
    issuer's name, its PAdES key and self-issued certificate too.

    Returns the new key's id, or None if a key already existed (made by anyone)."""

    def write() -> str | None:
        if _current(session) is not None:
            return None
        return _add(session, secret, 1, issuer).key_id

    return _retrying(session, write)


def current_key_id(session: Session, secret: str) -> str:
    """The key that signs new certificates (created first if there is none)."""
    record = _current(session)
    if record is None:
        ensure(session, secret)
        record = _current(session)
    assert record is not None
    return record.key_id


def signing_key(session: Session, secret: str) -> SigningKey:
    key_id = current_key_id(session, secret)
    record = session.get(SigningKeyRecord, key_id)
    assert record is not None
    if record.private_sealed is None:
        raise KeyStoreError(f"signing key {key_id} has no private key: rotate to a new one")
    return SigningKey(key_id, unseal(record.private_sealed, key_id, secret))


def rotate(session: Session, secret: str, issuer: str | None = None) -> str:
    """Make a new key current (with its PAdES key and certificate when the issuer's name
    is given); older keys and certificates stay for verification."""
    ensure(session, secret, issuer)  # history starts with a first key, as before

    def write() -> str:
        top = session.scalar(select(func.max(SigningKeyRecord.generation))) or 0
        return _add(session, secret, top + 1, issuer).key_id

    return _retrying(session, write)


def public_keys(session: Session) -> dict[str, Ed25519PublicKey]:
    """Every public key the installation ever signed with, by id (oldest first)."""
    rows = session.execute(
        select(SigningKeyRecord.key_id, SigningKeyRecord.public_pem).order_by(
            SigningKeyRecord.generation
        )
    )
    return {key_id: load_public_pem(pem.encode("ascii")) for key_id, pem in rows}


def pades_key_ready(session: Session, secret: str) -> PadesKey | None:
    """The current generation's PAdES key, or None if it has none yet (read only)."""
    record = _current(session)
    if record is None or not record.pades_private_sealed or not record.pades_certificate_pem:
        return None
    private = unseal_pades(record.pades_private_sealed, record.key_id, secret)
    return PadesKey(record.key_id, private, record.pades_certificate_pem)


def pades_key(session: Session, secret: str, issuer: str) -> PadesKey:
    """The current generation's PAdES key, made first if it has none (rows from before
    PAdES). Two hosts racing: one conditional update wins, both use its key."""
    found = pades_key_ready(session, secret)
    if found is not None:
        return found
    key_id = current_key_id(session, secret)
    sealed, certificate = _pades_material(key_id, secret, issuer)
    with session.begin_nested():
        session.execute(
            update(SigningKeyRecord)
            .where(
                SigningKeyRecord.key_id == key_id,
                SigningKeyRecord.pades_private_sealed.is_(None),
            )
            .values(pades_private_sealed=sealed, pades_certificate_pem=certificate)
            .execution_options(synchronize_session=False)
        )
    record = session.get(SigningKeyRecord, key_id)
    if record is not None:
        session.refresh(record)  # whichever host's key the update left
    found = pades_key_ready(session, secret)
    if found is None:  # the current generation changed meanwhile (a rotation): again
        return pades_key(session, secret, issuer)
    return found


def pades_certificates(session: Session) -> dict[str, str]:
    """Every PAdES certificate chain (PEM) the installation signed documents with, by
    key id, oldest first: the trust roots of document validation."""
    rows = session.execute(
        select(SigningKeyRecord.key_id, SigningKeyRecord.pades_certificate_pem)
        .where(SigningKeyRecord.pades_certificate_pem.is_not(None))
        .order_by(SigningKeyRecord.generation)
    )
    return {key_id: pem for key_id, pem in rows if pem}


def pades_trust(session: Session) -> pades.Trust:
    """The validator's trust roots (parsed once per set of certificates)."""
    return pades.trust(tuple(pades_certificates(session).values()))


def import_pades(session: Session, secret: str, private: pades.PrivateKey, chain_pem: str) -> str:
    """Sign documents from now on with an imported key and certificate chain (a
    qualified e-seal from a trust service provider): a new generation, current, whose
    PAdES part is the imported one; the previous certificates stay for validation."""
    chain = pades.load_chain(chain_pem)
    if not chain:
        raise KeyStoreError("no certificate in the PEM file")
    if not pades.matches(private, chain[0]):
        raise KeyStoreError("the private key does not match the first certificate")
    key_id = rotate(session, secret)
    record = session.get(SigningKeyRecord, key_id)
    assert record is not None
    record.pades_private_sealed = seal_pades(private, key_id, secret)
    record.pades_certificate_pem = chain_pem
    session.flush()
    return key_id


def rewrap(session: Session, old_secret: str, new_secret: str) -> int:
    """Encrypt every private key (Ed25519 and PAdES) again under a new ``LMS_SECRET_KEY``;
    how many rows."""
    records = session.scalars(
        select(SigningKeyRecord).where(
            SigningKeyRecord.private_sealed.is_not(None)
            | SigningKeyRecord.pades_private_sealed.is_not(None)
        )
    ).all()
    for record in records:
        if record.private_sealed is not None:
            private = unseal(record.private_sealed, record.key_id, old_secret)
            record.private_sealed = seal(private, record.key_id, new_secret)
        if record.pades_private_sealed is not None:
            key = unseal_pades(record.pades_private_sealed, record.key_id, old_secret)
            record.pades_private_sealed = seal_pades(key, record.key_id, new_secret)
    session.flush()
    return len(records)


# --- Keys of earlier versions, one folder per host ----------------------------------------


def keys_dir(instance_path: str | Path) -> Path:
    """Where earlier versions kept a host's keys (read by :func:`import_directory`)."""
    return Path(instance_path) / KEYS_DIR_NAME


@dataclass(frozen=True)
class FolderKey:
    key_id: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None
    current: bool
    modified: float


def folder_keys(directory: Path) -> list[FolderKey]:
    """The keys of an old ``certificate-keys`` folder, oldest first, current last."""
    if not directory.is_dir():
        return []
    current_path = directory / CURRENT
    current = current_path.read_text("ascii").strip() if current_path.exists() else None
    found = []
    for path in directory.glob("*.pub"):
        public = load_public_pem(path.read_bytes())
        key_id = key_id_of(public)
        private = None
        private_path = directory / f"{key_id}.key"
        if private_path.exists():
            loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
            if isinstance(loaded, Ed25519PrivateKey) and key_id_of(loaded.public_key()) == key_id:
                private = loaded
        found.append(FolderKey(key_id, public, private, key_id == current, path.stat().st_mtime))
    return sorted(found, key=lambda key: (key.current, key.modified, key.key_id))


def import_directory(session: Session, secret: str, directory: Path) -> list[str]:
    """Bring a host's old folder of keys into the database; the ids imported.

    Into an empty table the folder's current key stays current. Into a table that has
    keys already (another host imported or created first), the folder's keys go below
    them: they verify what they signed, the installation's current key stays."""
    on_top = _current(session) is None
    imported = []
    for key in folder_keys(directory):

        def write(key: FolderKey = key) -> bool:
            if session.get(SigningKeyRecord, key.key_id) is not None:
                return False
            if on_top:
                top = session.scalar(select(func.max(SigningKeyRecord.generation)))
                generation = (top or 0) + 1
            else:
                lowest = session.scalar(select(func.min(SigningKeyRecord.generation)))
                generation = (lowest or 1) - 1
            sealed = seal(key.private_key, key.key_id, secret) if key.private_key else None
            session.add(
                SigningKeyRecord(
                    key_id=key.key_id,
                    generation=generation,
                    public_pem=public_pem(key.public_key),
                    private_sealed=sealed,
                )
            )
            session.flush()
            return True

        if _retrying(session, write):
            imported.append(key.key_id)
    return imported


def install(
    session: Session, secret: str, instance_path: str | Path, issuer: str | None = None
) -> list[str]:
    """What ``lms init-db`` does for keys: import the old folder, create the first key
    if there is still none (with the issuer's name: its PAdES key and certificate too,
    also for a current key made before PAdES), check that this secret unlocks the
    current one. Lines to print."""
    lines = []
    imported = import_directory(session, secret, keys_dir(instance_path))
    if imported:
        lines.append(f"Chiavi di firma importate da {keys_dir(instance_path)}: {len(imported)}.")
    created = ensure(session, secret, issuer)
    if created:
        lines.append(f"Chiave di firma dei certificati creata: {created}.")
    signing_key(session, secret)  # a host set up with another secret fails here, not later
    if issuer and pades_key_ready(session, secret) is None:
        made = pades_key(session, secret, issuer)
        lines.append(f"Certificato PAdES autoemesso creato per la chiave {made.key_id}.")
    return lines
