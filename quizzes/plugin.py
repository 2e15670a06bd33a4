"""The quizzes plugin: quiz blocks inside modules, attempts, scoring, statistics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from flask import Blueprint, Flask

from lms.accounts.models import Role, User
from lms.i18n import lazy_gettext as _l
from lms.plugins import NavItem, Plugin, PrivacyProvider, Widget, registry


def _on_version_published(sender: Any, *, session: Any, version: Any) -> None:
    from quizzes.attempts import build_quizzes

    build_quizzes(session, version)


class QuizzesPlugin(Plugin):
    name = "quizzes"
    requires = ("courses",)
    models = "quizzes.models"
    fenced_blocks = ("quiz",)

    def blueprint(self) -> Blueprint:
        from quizzes import views  # noqa: F401  (its routes join the blueprint)
        from quizzes.blueprint import bp

        return bp

    def cli(self) -> click.Group:
        from quizzes.cli import quizzes_cli

        return quizzes_cli

    def init_app(self, app: Flask) -> None:
        from courses.api import FENCED_BLOCKS, FencedBlock, version_published
        from quizzes.attempts import QUIZ_BLOCK
        from quizzes.evidence import assess_quiz_block
        from quizzes.question_types import BUILT_IN, QUESTION_TYPES
        from quizzes.spec import validate_quiz_block

        registry(FENCED_BLOCKS, app).add(
            QUIZ_BLOCK,
            FencedBlock(
                name=QUIZ_BLOCK,
                validate=validate_quiz_block,
                assess=assess_quiz_block,
                completion_message=_l("Questo modulo si completa superando il quiz."),
                label=_l("con quiz"),
                template="quizzes/_module_quiz_link.html",
            ),
        )
        types = registry(QUESTION_TYPES, app)
        for question_type in BUILT_IN:
            types.add(question_type.name, question_type)
        version_published.connect(_on_version_published, sender=app, weak=False)

    def privacy(self) -> PrivacyProvider:
        from quizzes.privacy import PROVIDER

        return PROVIDER

    def nav_items(self, user: User) -> Iterable[NavItem]:
        if user.has_role(Role.TRAINER, Role.ADMIN):
            return [NavItem(str(_l("Statistiche quiz")), "quizzes.stats_index", order=65)]
        return []

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        """A trainer's recent results in their courses (fewer than 5 attempts withheld)."""
        if not user.has_role(Role.TRAINER):
            return []
        from lms import db
        from quizzes.home import RECENT_DAYS, recent_results

        return [
            Widget(
                str(_l("Risultati recenti dei quiz")),
                "quizzes/widgets/results.html",
                (("results", tuple(recent_results(db.session, user))), ("days", RECENT_DAYS)),
                order=32,
            )
        ]


plugin = QuizzesPlugin()
