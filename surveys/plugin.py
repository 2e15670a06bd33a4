"""The surveys plugin: the satisfaction questionnaire at the end of a course."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Blueprint, Flask

from lms.plugins import NavItem, Plugin, PrivacyProvider, Widget, registry

if TYPE_CHECKING:
    from lms.accounts.models import User


class SurveysPlugin(Plugin):
    name = "surveys"
    requires = ("courses",)
    models = "surveys.models"

    def blueprint(self) -> Blueprint:
        from surveys import views  # noqa: F401  (routes)
        from surveys.blueprint import bp

        return bp

    def init_app(self, app: Flask) -> None:
        from courses.api import COMPLETION_REQUIREMENTS
        from surveys.answering import survey_requirement
        from surveys.config import init_config
        from surveys.questions import init_questions

        init_config(app)
        init_questions(app)
        registry(COMPLETION_REQUIREMENTS, app).add("surveys.answered", survey_requirement)

    def nav_items(self, user: User) -> Iterable[NavItem]:
        from flask_babel import gettext as _

        return [NavItem(_("Questionari"), "surveys.index", order=45)]

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        from flask_babel import gettext as _

        from lms import db
        from surveys.answering import pending_surveys

        pending = pending_surveys(db.session, user.id)
        if not pending:
            return []
        return [
            Widget(
                _("Questionari da compilare"),
                "surveys/_widget.html",
                context=(("pending", tuple(pending)),),
                order=15,
            )
        ]

    def privacy(self) -> PrivacyProvider:
        from surveys.privacy import PROVIDER

        return PROVIDER


plugin = SurveysPlugin()
