"""Amounts written as people read them: the number in the locale's format and the noun in
the right plural form ("1 ora", "1,5 ore", "2 ore"; "1 minuto", "45 minuti").

Counts of things use ``ngettext`` where they are written; these helpers exist for the
amounts every feature prints (hours of training, minutes of study), so that no template
writes "%(h)s ore" with a number that may be 1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import format_decimal, ngettext


def _plural_count(value: Decimal) -> int:
    """The count ngettext chooses the form by: 1 only for exactly one (1,5 ore, 0 ore)."""
    return 1 if value == 1 else 2


def hours_text(value: Any) -> str:
    """Hours with their noun: "1 ora", "2,5 ore" (it); "1 hour", "2.5 hours" (en)."""
    amount = Decimal(str(value)).normalize()
    return ngettext("%(h)s ora", "%(h)s ore", _plural_count(amount), h=format_decimal(amount))


def minutes_text(value: Any) -> str:
    """Whole minutes with their noun: "1 minuto", "45 minuti".

    A course page writes one per module: below a thousand the number is its digits in
    every supported locale (no grouping), and the catalogue is the one the request
    already looked up (``ngettext``'s own look-ups cost more than the rest).
    """
    from lms.i18n import current_translations

    minutes = int(value)
    number = str(minutes) if 0 <= minutes < 1000 else format_decimal(minutes)
    form = current_translations().ungettext("%(m)s minuto", "%(m)s minuti", minutes)
    return form % {"m": number, "num": minutes}


def percent_text(value: float | None, digits: int = 1) -> str:
    """A percentage (0-100) as the locale writes it: "50,0 %" (Italian typography puts a
    space before the sign), "50.0%" (English); ``None`` -> "—"."""
    if value is None:
        return "—"
    from flask_babel import get_locale

    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    number = format_decimal(round(float(value), digits), format=pattern)
    return f"{number}\u00a0%" if str(get_locale()).startswith("it") else f"{number}%"


def decimal_text(value: float | None, digits: int = 2) -> str:
    """A plain number with ``digits`` decimals in the locale's format ("0,42" / "0.42")."""
    if value is None:
        return "—"
    return format_decimal(round(float(value), digits), format="#,##0." + "0" * digits)
