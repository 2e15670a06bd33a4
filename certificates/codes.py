"""Verification codes and serial numbers.

Codes are 28 Crockford base32 symbols drawn with ``secrets`` (140 bits: far
beyond guessing, unlike the 33-60 bit codes of common LMS plugins), shown in
groups of four for reading aloud. Crockford's alphabet has no I, L, O or U, and
typing those (or lower case, spaces, dashes) still finds the certificate.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 28
CODE_BITS = CODE_LENGTH * 5  # each symbol carries 5 bits
GROUP = 4

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_REISSUE_SUFFIX = re.compile(r"-R\d+$")


def new_code() -> str:
    """A fresh normalised code (no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(raw: str) -> str | None:
    """The stored form of a typed code, or None if it cannot be one."""
    code = _SEPARATORS.sub("", raw or "").upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def grouped(code: str) -> str:
    """``XXXX-XXXX-...``: the form printed on the certificate and in links."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def serial_for(prefix: str, year: int, number: int) -> str:
    """Human serial, e.g. ``MI-2026-000123``."""
    return f"{prefix}-{year}-{number:06d}"


def reissue_serial(serial: str, reissue: int) -> str:
    """Same serial chain with a re-issue suffix: ``MI-2026-000123-R1``."""
    return f"{_REISSUE_SUFFIX.sub('', serial)}-R{reissue}"
