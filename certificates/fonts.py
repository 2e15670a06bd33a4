"""The certificate font: Noto Sans from the ``fontpkg-noto-sans`` package.

Installed with the platform (a PyPI dependency), never downloaded at run
time. The package ships a 2 MB variable font; parsing and subsetting it for
every PDF would cost ~0.1 s, so the first use writes a static copy into the
instance folder (default instance, i.e. Regular; Latin with Vietnamese,
Greek and Cyrillic; no variation or layout tables) and every PDF then loads
that ~100 kB file. The copy is published with ``os.replace``, so concurrent
workers never read half a file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from importlib import metadata, resources
from pathlib import Path
from typing import Any

FONT_PACKAGE = "fontpkg-noto-sans"
FONT_MODULE = "fontpkg_noto_sans"
FONT_FILE = "NotoSans[wdth,wght].ttf"
CACHE_DIR_NAME = "certificate-fonts"

# Latin (with Latin Extended Additional for Vietnamese), combining marks,
# Greek, Cyrillic, punctuation, currency and letter-like symbols.
UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x024F),
    (0x0250, 0x02FF),
    (0x0300, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x214F),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
)
_VARIATION_TABLES = ("fvar", "gvar", "avar", "HVAR", "MVAR", "STAT", "cvar")


def source_font() -> Path:
    return Path(str(resources.files(FONT_MODULE) / "files" / FONT_FILE))


def _stamp() -> str:
    ranges = ",".join(f"{a:x}-{b:x}" for a, b in UNICODE_RANGES)
    text = f"{metadata.version(FONT_PACKAGE)}|{ranges}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _build(target: Path) -> None:
    from fontTools.ttLib import TTFont

    with TTFont(source_font()) as font:
        _subset(font, target)


def _subset(font: Any, target: Path) -> None:
    from fontTools import subset

    for tag in _VARIATION_TABLES:
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for a, b in UNICODE_RANGES for cp in range(a, b + 1)])
    subsetter.subset(font)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.ttf")
    font.save(str(tmp))
    os.replace(tmp, target)


def certificate_font(instance_path: str | Path) -> Path:
    """Path of the prepared font, building it on first use."""
    directory = Path(instance_path) / CACHE_DIR_NAME
    target = directory / f"NotoSans-Regular-{_stamp()}.ttf"
    if not target.exists():
        directory.mkdir(parents=True, exist_ok=True)
        _build(target)
    return target


def covers(font_path: Path, text: str) -> bool:
    """Whether every character of ``text`` has a glyph (names outside print as boxes)."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True) as font:
        cmap = font.getBestCmap()
    return all(ord(ch) in cmap or ch.isspace() for ch in text)
