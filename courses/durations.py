"""How long a module takes, computed from its content by the ECM rule for e-learning (FAD).

Agenas (Manuale nazionale di accreditamento, par. 4.10): text 10 minutes per 6,000
characters, each graph/image or table 2 minutes, audio/video its length, further study up
to +50 %. The count is made on the lesson as the learner sees it (the sanitised HTML that
the platform renders, plugins' blocks such as the quiz left out), so that Markdown syntax,
tags and the test never count as reading. Lessons cannot embed audio or video (the
sanitiser allows neither), so media are not counted. A table counts its 2 minutes instead
of its text (cells are not counted twice). Minutes are rounded up to the whole minute.

The declared ``estimated_minutes``/``estimated_hours`` may add the further study: at most
the computed duration + 50 %. Everything that prints a duration goes through
:func:`module_minutes`, :func:`course_minutes` and :func:`course_hours`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from html.parser import HTMLParser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from courses.models import CourseVersion, Module

CHARACTERS_PER_10_MINUTES = 6000
MINUTES_PER_TABLE = 2
MINUTES_PER_IMAGE = 2
FURTHER_STUDY = Fraction(3, 2)  # computed duration + 50 %


@dataclass(frozen=True)
class Duration:
    """What a lesson holds and the minutes the ECM rule gives it (rounded up)."""

    characters: int
    tables: int
    images: int

    @property
    def exact_minutes(self) -> Fraction:
        text = Fraction(self.characters * 10, CHARACTERS_PER_10_MINUTES)
        return text + MINUTES_PER_TABLE * self.tables + MINUTES_PER_IMAGE * self.images

    @property
    def minutes(self) -> int:
        return math.ceil(self.exact_minutes)


class _LessonText(HTMLParser):
    """Counts the characters a learner reads, tables and images of sanitised lesson HTML."""

    BLOCKS = {"p", "li", "dt", "dd", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "div"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tables = 0
        self.images = 0
        self._in_table = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if not self._in_table:
                self.tables += 1
            self._in_table += 1
        elif tag == "img":
            self.images += 1
        elif tag in self.BLOCKS or tag == "br":
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._in_table:
            self._in_table -= 1
        elif tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._in_table:
            self.parts.append(data)


def measure_html(html: str) -> Duration:
    """The duration of rendered lesson HTML: characters as displayed (runs of white space
    count as one space, spaces included as the ECM count does), tables and images."""
    parser = _LessonText()
    parser.feed(html)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    return Duration(characters=len(text), tables=parser.tables, images=parser.images)


def max_minutes(computed: int) -> Fraction:
    """The most a declaration may claim: the computed duration plus further study."""
    return computed * FURTHER_STUDY


def module_minutes(module: Module) -> int:
    """The minutes shown for a module: the declared value when present, else computed."""
    if module.estimated_minutes:  # 0: none declared
        return module.estimated_minutes
    return module.computed_minutes


def course_minutes(version: CourseVersion) -> Decimal:
    """A course's minutes: the declared hours when present, else the sum of its modules'
    computed minutes (stored on the version at import)."""
    if version.estimated_hours:  # 0: none declared
        return Decimal(version.estimated_hours) * 60
    return Decimal(version.computed_minutes)


def course_hours(version: CourseVersion) -> Decimal:
    """A course's hours as printed (pages, certificates), to the hundredth."""
    return (course_minutes(version) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
