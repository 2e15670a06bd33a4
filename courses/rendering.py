"""Course rendering: the platform's sanitising Markdown renderer, minus plugins' blocks."""

from __future__ import annotations

from courses.format import lesson_of
from lms.rendering import render_inline, render_markdown, sanitise

__all__ = ["render_inline", "render_lesson", "render_markdown", "sanitise"]


def render_lesson(body: str, asset_base: str = "") -> str:
    """A module's lesson: its Markdown without the plugins' fenced blocks."""
    return render_markdown(lesson_of(body), asset_base)
