"""The live_sessions plugin: in-person and online sessions with registration and attendance."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
from flask import Blueprint, Flask

from lms.plugins import NavItem, Plugin, PrivacyProvider, Widget, registry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lms.accounts.models import User


class LiveSessionsPlugin(Plugin):
    name = "live_sessions"
    requires = ("courses",)
    models = "live_sessions.models"

    def blueprint(self) -> Blueprint:
        from live_sessions import referent_views, trainer_views, views  # noqa: F401  (routes)
        from live_sessions.blueprint import bp

        return bp

    def cli(self) -> click.Group:
        from live_sessions.cli import group

        return group

    def init_app(self, app: Flask) -> None:
        from courses.api import COMPLETION_REQUIREMENTS
        from live_sessions import jobs as live_jobs
        from live_sessions.attendance import attendance_requirement

        live_jobs.install(app)

        registry(COMPLETION_REQUIREMENTS, app).add(
            "live_sessions.attendance", attendance_requirement
        )

    def nav_items(self, user: User) -> Iterable[NavItem]:
        from flask_babel import gettext as _

        from lms.organisations.policy import referent_organisation_ids

        items = [NavItem(_("Incontri in presenza"), "live_sessions.index", order=20)]
        managed = sorted(referent_organisation_ids(user))
        if managed:
            items.append(
                NavItem(
                    _("Incontri del personale"),
                    "live_sessions.organisation",
                    order=84,
                    values=(("org_id", managed[0]),),
                )
            )
        return items

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        from flask_babel import gettext as _

        from live_sessions.registration import my_registrations
        from live_sessions.scheduling import sessions_run_by
        from lms import clock, db
        from lms.accounts.models import Role

        widgets = [
            Widget(
                _("I miei incontri in presenza"),
                "live_sessions/widgets/mine.html",
                context=(("registrations", tuple(my_registrations(db.session, user.id)[:5])),),
                order=15,
            )
        ]
        if user.has_role(Role.TRAINER):
            now = clock.now()
            mine = [s for s in sessions_run_by(db.session, user) if s.ends_at > now]
            widgets.append(
                Widget(
                    _("Incontri che conduci"),
                    "live_sessions/widgets/trainer.html",
                    context=(("sessions", tuple(reversed(mine[-5:]))),),
                    order=35,
                )
            )
        return widgets

    def privacy(self) -> PrivacyProvider:
        from live_sessions.privacy import PROVIDER

        return PROVIDER

    def demo_data(self, session: Session) -> Iterable[str]:
        from live_sessions.demo import load_demo

        return load_demo(session)


plugin = LiveSessionsPlugin()
