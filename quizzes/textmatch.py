"""Comparing texts as a person would: short answers and duplicate options."""

from __future__ import annotations

import unicodedata

# Letters, digits and symbols such as € or + count; punctuation, spaces, accents and
# modifier symbols (a lone ´ or `) do not.
_KEPT = ("L", "N", "Sc", "Sm", "So")


def normalise_answer(text: str) -> str:
    """The comparable core of a short answer.

    Case, accents, punctuation and spaces are ignored ("Danger-assessment 5" equals
    "danger assessment 5" and "DANGER ASSESSMENT5"): learners type on phones, with or
    without accents, and a hyphen or an apostrophe should not cost the point.
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(char for char in decomposed if unicodedata.category(char).startswith(_KEPT))


def same_text(first: str, second: str) -> bool:
    """Whether two option texts would look the same to a learner (case, spacing)."""
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())
