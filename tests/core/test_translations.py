"""Every string the platform shows has its English translation, compiled."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lms", "courses", "quizzes", "certificates", "commitments", "live_sessions", "surveys")
METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
CATALOGUE = ROOT / "lms" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def source_strings() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, METHODS, keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_source_string_has_an_english_translation() -> None:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalogue
        if message.id
        and not message.fuzzy
        and all(message.string if isinstance(message.string, tuple) else [message.string])
    }
    missing = sorted(source_strings() - translated)
    assert missing == [], "run tools/i18n-update and translate: " + " | ".join(missing[:10])


def test_the_compiled_catalogue_is_newer_than_its_source() -> None:
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "make translations compiles it"
    assert compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime
