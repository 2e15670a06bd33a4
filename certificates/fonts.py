"""The certificate font: the platform's Noto Sans (``lms.fonts``).

Installed with the platform (the ``fontpkg-noto-sans`` PyPI dependency),
never downloaded at run time; a static copy is prepared once in the instance
folder and parsed once per process.
"""

from __future__ import annotations

from pathlib import Path

from lms import fonts


def certificate_font(instance_path: str | Path) -> Path:
    """Path of the prepared font, building it on first use."""
    path = fonts.prepared_font(instance_path)
    if path is None:
        raise RuntimeError(f"the {fonts.FONT_PACKAGE} package is not installed")
    return path


def covers(font_path: Path, text: str) -> bool:
    """Whether every character of ``text`` has a glyph (names outside print as boxes)."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True) as font:
        cmap = font.getBestCmap()
    return all(ord(ch) in cmap or ch.isspace() for ch in text)
