"""The courses plugin: Markdown-authored courses, versions, catalogue, progress."""

from __future__ import annotations

from lms.plugins import Plugin


class CoursesPlugin(Plugin):
    name = "courses"


plugin = CoursesPlugin()
