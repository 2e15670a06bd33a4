"""URL helpers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

#: The largest id: every id column is an ``Integer``, 32 bits on PostgreSQL (SQLite's
#: 64-bit rowids go further, but one bound must hold on both; a test checks the columns).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<id:name>``: a database id, 1 to ``MAX_ID``, in ASCII digits.

    Anything else (0, a sign, Unicode digits, 20 digits or more, a value beyond ``MAX_ID``)
    does not match the rule, so the request answers 404 before a query is built: PostgreSQL
    refuses such integers ("integer out of range") and SQLite beyond 2**63 - 1
    (``OverflowError``). Registered by the LMS extension under its own name, so a host's
    ``int`` is untouched.
    """

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Any) -> None:
        super().__init__(map, min=1, max=MAX_ID)


def parse_id(value: str | None) -> int | None:
    """An id given in a query string or form field, or None if it cannot be one."""
    if not value or not value.isascii() or not value.isdigit():
        return None
    digits = value.lstrip("0")
    if not digits or len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
        return None
    return int(digits)


def safe_next_url(target: str | None) -> str | None:
    """Return ``target`` only if it is a local path; refuse open redirects."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
