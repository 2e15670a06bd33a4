"""The certificates plugin: signed PDF certificates, verification, expiry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click
from flask import Blueprint, Flask

from lms.plugins import NavItem, Plugin, PrivacyProvider, Widget
from lms.signals import CompletionEvent, completion_recorded

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import ColumnElement

    from lms.accounts.models import User


def on_completion_recorded(
    sender: Any, *, session: Any, event: CompletionEvent, **_extra: Any
) -> None:
    """Issue the certificate inside the completion's transaction (no commit here).

    Connected with ``sender=app`` for each app that loads this plugin: ``sender`` is
    that app.
    """
    from certificates.config import issuer_settings
    from certificates.issuing import issue

    issue(session, event, issuer_settings(sender))


class CertificatesPlugin(Plugin):
    name = "certificates"
    models = "certificates.models"

    def blueprint(self) -> Blueprint:
        import certificates.credential_views  # noqa: F401  (Open Badges 3.0 routes)
        import certificates.europass_views  # noqa: F401  (Europass export)
        import certificates.verify_views  # noqa: F401  (public verification, keys)
        from certificates import views  # noqa: F401  (its routes join the blueprint)
        from certificates.blueprint import bp

        return bp

    def cli(self) -> click.Group:
        from certificates.cli import group

        return group

    def init_app(self, app: Flask) -> None:
        from certificates import jobs as certificate_jobs
        from certificates.config import init_config

        init_config(app)
        completion_recorded.connect(on_completion_recorded, sender=app, weak=False)
        certificate_jobs.install(app)

    def after_upgrade(self, session: Any) -> Iterable[str]:
        """One set of signing keys for the installation, in the database: the instance
        folder's keys of earlier versions imported, the first key created if none."""
        from flask import current_app

        from certificates import keys

        return keys.install(
            session,
            current_app.config["LMS_SECRET_KEY"],
            current_app.instance_path,
            issuer=current_app.config["LMS_CERT_ISSUER"],
        )

    def active_until(self, user_id: ColumnElement[int]) -> ColumnElement[dt.datetime]:
        """The end of the person's last certificate that was not revoked (its issue,
        for one that never expires): renewal is what brings them back."""
        from sqlalchemy import func, select

        from certificates.models import Certificate

        return (
            select(func.max(func.coalesce(Certificate.expires_at, Certificate.issued_at)))
            .where(Certificate.user_id == user_id, Certificate.revoked_at.is_(None))
            .correlate_except(Certificate)
            .scalar_subquery()
        )

    def privacy(self) -> PrivacyProvider:
        from certificates.privacy import PROVIDER

        return PROVIDER

    def nav_items(self, user: User) -> Iterable[NavItem]:
        from flask_babel import gettext as _

        from certificates.config import courses_loaded
        from lms.accounts.models import Role
        from lms.organisations.policy import referent_organisation_ids

        items = [NavItem(_("I miei attestati"), "certificates.mine", order=40)]
        managed = sorted(referent_organisation_ids(user))
        if managed:
            items.append(
                NavItem(
                    _("Attestati dell'organizzazione"),
                    "certificates.organisation",
                    order=85,
                    values=(("org_id", managed[0]),),
                )
            )
        if user.is_admin:
            items.append(NavItem(_("Gestione attestati"), "certificates.admin_index", order=90))
        if user.has_role(Role.TRAINER, Role.ADMIN) and courses_loaded():
            items.append(
                NavItem(_("Registro partecipanti"), "certificates.participants_index", order=66)
            )
        return items

    def public_widgets(self) -> Iterable[Widget]:
        from flask_babel import gettext as _

        return [Widget(_("Verificare un attestato"), "certificates/widgets/public.html", order=50)]

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        """The person's current certificates, each with its download link."""
        from flask_babel import gettext as _

        from certificates.config import expiring_days
        from certificates.widgets import current_rows
        from lms import db

        rows = current_rows(db.session, user.id, expiring_days())
        return [
            Widget(
                title=_("I miei attestati"),
                template="certificates/widgets/mine.html",
                context=(("certificate_rows", tuple(rows[:5])), ("certificate_total", len(rows))),
                order=40,
            )
        ]

    def demo_data(self, session: Any) -> Iterable[str]:
        """The demo operator's certificates: one valid, one expiring soon, one revoked."""
        from certificates.demo import load_demo

        return load_demo(session)


plugin = CertificatesPlugin()
