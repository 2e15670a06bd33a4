"""A third-party plugin, as an outside package would write it: it adds a fenced block
to lessons and a question type to quizzes through the contract (registries filled in
``init_app``), and listens to courses' signals for its own app only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from courses.api import FENCED_BLOCKS, FencedBlock, module_completed
from lms.errors import FormatIssue
from lms.plugins import Plugin, registry
from quizzes.question_types import QUESTION_TYPES
from quizzes.types import TrueFalse

EXERCISE = "esercizio"


class YesNo(TrueFalse):
    """A question answered yes or no: a true/false under another name and label."""

    name = "si_no"
    label = "Sì o no"


def validate_exercise(source: str, file: str, first_line: int) -> list[FormatIssue]:
    if not source.strip():
        return [FormatIssue(file, first_line, "l'esercizio è vuoto")]
    return []


def _on_module_completed(app: Flask, **event: Any) -> None:
    app.extensions[SampleBlocksPlugin.name].append((event["user_id"], event["module_slug"]))


class SampleBlocksPlugin(Plugin):
    name = "sample_blocks"
    requires = ("courses", "quizzes")
    fenced_blocks = ("esercizio",)

    def blueprint(self) -> Blueprint:
        return Blueprint(self.name, __name__, template_folder="templates")

    def init_app(self, app: Flask) -> None:
        registry(FENCED_BLOCKS, app).add(
            EXERCISE,
            FencedBlock(
                name=EXERCISE,
                validate=validate_exercise,
                completion_message="Questo modulo lo segna come svolto la formatrice.",
                label="con esercizio",
                template="sample_blocks/_exercise.html",
            ),
        )
        registry(QUESTION_TYPES, app).add(YesNo.name, YesNo)
        app.extensions[self.name] = []  # the modules completed in this app, as seen here
        module_completed.connect(_on_module_completed, sender=app, weak=False)


plugin = SampleBlocksPlugin()
