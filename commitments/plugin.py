"""The commitments plugin: training commitments, referent dashboards, network view."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
from flask import Blueprint, Flask

from lms.plugins import NavItem, Plugin, PrivacyProvider, Widget

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lms.accounts.models import User


class CommitmentsPlugin(Plugin):
    name = "commitments"
    requires = ("courses",)
    models = "commitments.models"

    def blueprint(self) -> Blueprint:
        from commitments.blueprint import bp
        from commitments.manage import views as _manage  # noqa: F401  (routes)
        from commitments.reporting import network_views as _network  # noqa: F401
        from commitments.reporting import views as _reporting  # noqa: F401
        from commitments.staff import views as _staff  # noqa: F401

        return bp

    def cli(self) -> click.Group:
        from commitments.cli import group

        return group

    def init_app(self, app: Flask) -> None:
        from commitments import jobs as commitment_jobs
        from commitments import standing
        from commitments.config import init_config

        init_config(app)
        standing.install(app)
        commitment_jobs.install(app)

    def nav_items(self, user: User) -> Iterable[NavItem]:
        from flask_babel import gettext as _

        from lms.organisations.policy import can_view_network, managed_organisation_ids

        if can_view_network(user) or managed_organisation_ids(user):
            return [NavItem(_("Impegni formativi"), "commitments.index", order=70)]
        return []

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        """Operator's "Da fare", referent's organisation at a glance, network chart."""
        from commitments.home import widgets_for

        return widgets_for(user)

    def privacy(self) -> PrivacyProvider:
        from commitments.privacy import PROVIDER

        return PROVIDER

    def after_upgrade(self, session: Session) -> Iterable[str]:
        from commitments import standing

        if standing.is_built(session):
            return []
        written = standing.rebuild(session)
        return [f"Situazioni degli impegni ricalcolate: {written}."]

    def demo_data(self, session: Session) -> Iterable[str]:
        from commitments.demo import load_demo

        return load_demo(session)


plugin = CommitmentsPlugin()
