"""Ed25519 signing keys kept in the instance folder.

Layout of ``<instance>/certificate-keys/``: ``<key id>.key`` (private key,
PKCS#8 PEM, mode 0600), ``<key id>.pub`` (public key PEM) and ``current``
(the key id that signs new certificates). Public keys are never deleted, so
certificates signed before a rotation keep verifying.

Several gunicorn workers may start at once on a fresh install: files are
created with ``O_EXCL`` and ``current`` is published with ``link()``, which
fails if another worker got there first, so all workers end up on one key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEYS_DIR_NAME = "certificate-keys"
CURRENT = "current"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey


def keys_dir(instance_path: str | Path) -> Path:
    return Path(instance_path) / KEYS_DIR_NAME


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


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _create_key(directory: Path) -> str:
    """Write a new key pair; return its id. Does not make it current."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    key_id = key_id_of(private.public_key())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_exclusive(directory / f"{key_id}.key", pem, 0o600)
    _write_exclusive(directory / f"{key_id}.pub", public_pem(private.public_key()).encode(), 0o644)
    return key_id


def _staged(directory: Path, key_id: str) -> Path:
    """A complete ``current`` file under a private name, ready to be published."""
    tmp = directory / f".{CURRENT}.{secrets.token_hex(8)}"
    _write_exclusive(tmp, key_id.encode("ascii"), 0o644)
    return tmp


def current_key_id(directory: Path) -> str:
    """The current key id, creating the first key pair if there is none."""
    path = directory / CURRENT
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    key_id = _create_key(directory)
    tmp = _staged(directory, key_id)
    try:
        os.link(tmp, path)  # atomic and exclusive: readers never see it half written
    except FileExistsError:
        # Another worker published its key first: use that one, drop ours.
        for suffix in (".key", ".pub"):
            (directory / f"{key_id}{suffix}").unlink(missing_ok=True)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text("ascii").strip()


def signing_key(directory: Path) -> SigningKey:
    key_id = current_key_id(directory)
    data = (directory / f"{key_id}.key").read_bytes()
    private = serialization.load_pem_private_key(data, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{key_id}.key is not an Ed25519 private key")
    return SigningKey(key_id, private)


def rotate(directory: Path) -> str:
    """Make a new key current; old public keys stay for verification."""
    current_key_id(directory)  # the first key, if none yet, so history is complete
    key_id = _create_key(directory)
    os.replace(_staged(directory, key_id), directory / CURRENT)
    return key_id


def public_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    """Every public key ever used here, by id (empty if none yet)."""
    found: dict[str, Ed25519PublicKey] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.pub")):
        key = load_public_pem(path.read_bytes())
        found[key_id_of(key)] = key
    return found


def created_at(directory: Path, key_id: str) -> float | None:
    path = directory / f"{key_id}.pub"
    return path.stat().st_mtime if path.exists() else None
