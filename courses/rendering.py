"""Course rendering: the platform's sanitising Markdown renderer, minus quiz blocks."""

from __future__ import annotations

from courses.format import split_quiz
from lms.rendering import render_inline, render_markdown, sanitise

__all__ = ["render_inline", "render_lesson", "render_markdown", "sanitise"]


def render_lesson(body: str, asset_base: str = "") -> str:
    """A module's lesson: its Markdown without the quiz block."""
    lesson, _quiz, _line = split_quiz(body)
    return render_markdown(lesson, asset_base)
