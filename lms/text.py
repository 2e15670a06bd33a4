"""One-line text: titles, names and places as people type (or paste) them.

:func:`single_line` is applied on input to every single-line field. It normalises
(Unicode NFC, trimmed, every inner run of spaces and tabs made one space) and
refuses, with a message fit for the person who typed it, what would break a line:
CR, LF and every other character ``str.splitlines`` breaks on (VT, FF, the file,
group and record separators, NEL, U+2028, U+2029), and any other control character
(C0 but tab, DEL, C1, the bidirectional embeddings, overrides and isolates that
reorder what a terminal shows, lone surrogates). Multi-line fields (descriptions,
lesson Markdown) do not go through it.

:func:`flatten` is its forgiving twin for places where refusing comes too late
(a mail subject built from a title saved before titles were checked): each such
character becomes a space. :func:`visible` is for terminals: it shows them as
escapes (``\\n``, ``\\u2028``), so a value never prints a line of its own.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from lms.errors import ServiceError

LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class TextError(ServiceError):
    """A single-line value refused; ``str(error)`` says what to change."""


class LineBreakError(TextError):
    pass


class ControlCharacterError(TextError):
    pass


def _refused(ch: str) -> bool:
    if ch in LINE_BREAKS or ch in BIDI_CONTROLS:
        return True
    return ch != "\t" and unicodedata.category(ch) in ("Cc", "Cs")


def is_unsafe(value: str) -> bool:
    """Whether ``value`` holds anything :func:`single_line` refuses (a tab is fine)."""
    return any(_refused(ch) for ch in value)


def single_line(value: str, *, what: str | None = None) -> str:
    """``value`` normalised for a single-line field, or :class:`TextError`.

    ``what`` names the field as the message's subject, e.g. "Il titolo".
    """
    subject = str(what) if what else _("Il testo")
    for ch in value:
        if ch in LINE_BREAKS:
            raise LineBreakError(
                _("%(what)s non può contenere a capo: scrivilo su una riga.", what=subject)
            )
    for ch in value:
        if _refused(ch):
            raise ControlCharacterError(
                _(
                    "%(what)s contiene un carattere non ammesso (%(char)s): toglilo.",
                    what=subject,
                    char=f"U+{ord(ch):04X}",
                )
            )
    return " ".join(unicodedata.normalize("NFC", value).split())


def flatten(value: str) -> str:
    """Like :func:`single_line`, but never refuses: what it would refuse becomes a space."""
    cleaned = "".join(" " if _refused(ch) else ch for ch in value)
    return " ".join(unicodedata.normalize("NFC", cleaned).split())


def visible(value: object) -> str:
    """``str(value)`` for a terminal: line breaks and control characters shown as escapes."""
    shown = []
    for ch in str(value):
        if ch in ESCAPES:
            shown.append(ESCAPES[ch])
        elif _refused(ch):
            code = ord(ch)
            shown.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            shown.append(ch)
    return "".join(shown)
