"""What a certificate states about accreditation and tracked time, from plain values.

The completion event carries the accreditation as the course declares it (body,
provider, event, credits, validity as ISO dates). Whether the completion earns the
credits depends on its date, taken in Milan's time zone, against that period; the
certificate stores the answer (``covered``) with the rest, so that the PDF, the signed
payload and the verification page say the same thing whenever they are read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lms.clock import LOCAL_ZONE

FIELDS = ("body", "provider", "event", "credits", "valid_from", "valid_until")


@dataclass(frozen=True)
class Accreditation:
    """An accreditation as printed; ``covered``: the completion fell within the period."""

    body: str
    provider: str
    event: str
    credits: Decimal
    valid_from: dt.date | None
    valid_until: dt.date | None
    covered: bool


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def record(data: dict[str, Any] | None, completed_at: dt.datetime) -> dict[str, Any] | None:
    """The accreditation to store and sign: the declared values plus ``covered``."""
    if not data:
        return None
    day = completed_at.astimezone(LOCAL_ZONE).date()
    valid_from, valid_until = _day(data.get("valid_from")), _day(data.get("valid_until"))
    covered = (valid_from is None or valid_from <= day) and (
        valid_until is None or day <= valid_until
    )
    stored = {key: data.get(key) for key in FIELDS}
    stored["credits"] = str(data.get("credits", ""))
    stored["covered"] = covered
    return stored


def read(data: dict[str, Any] | None) -> Accreditation | None:
    """A stored (or signed) accreditation, or ``None`` if there is none to show."""
    if not isinstance(data, dict) or not data.get("body"):
        return None
    try:
        credits = Decimal(str(data.get("credits")))
    except InvalidOperation:
        credits = Decimal(0)
    return Accreditation(
        body=str(data["body"]),
        provider=str(data.get("provider") or ""),
        event=str(data.get("event") or ""),
        credits=credits,
        valid_from=_day(data.get("valid_from")),
        valid_until=_day(data.get("valid_until")),
        covered=bool(data.get("covered")),
    )


def credits_earned(data: dict[str, Any] | None) -> str | None:
    """The accreditation's credits, as the certificate's ``credits``, when they were earned."""
    found = read(data)
    return str(found.credits) if found is not None and found.covered else None


def hours_minutes(seconds: int) -> tuple[int, int]:
    """Tracked seconds as whole hours and minutes (seconds left over are dropped)."""
    minutes = max(0, int(seconds)) // 60
    return minutes // 60, minutes % 60
