"""The quizzes plugin: quiz blocks inside modules, attempts, scoring, statistics."""

from __future__ import annotations

from lms.plugins import Plugin


class QuizzesPlugin(Plugin):
    name = "quizzes"
    requires = ("courses",)


plugin = QuizzesPlugin()
