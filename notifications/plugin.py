"""The notifications plugin: an in-platform list and e-mail for training events.

Events become rows in the sender's transaction (signals); ``lms notifications send``
delivers the e-mail and scans the commitments' deadlines. Cron reminders of other
plugins hand their messages over through ``lms.signals.message_ready``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
from flask import Blueprint, Flask

from lms.plugins import NavItem, Plugin, PrivacyProvider

if TYPE_CHECKING:
    from lms.accounts.models import User


class NotificationsPlugin(Plugin):
    name = "notifications"
    models = "notifications.models"

    def blueprint(self) -> Blueprint:
        from notifications import views  # noqa: F401  (routes)
        from notifications.blueprint import bp

        return bp

    def cli(self) -> click.Group:
        from notifications.cli import group

        return group

    def init_app(self, app: Flask) -> None:
        from lms.signals import certificate_issued, message_ready
        from notifications import jobs as notification_jobs
        from notifications.receivers import on_certificate_issued, on_enrolled, on_message_ready

        notification_jobs.install(app)
        certificate_issued.connect(on_certificate_issued, sender=app, weak=False)
        message_ready.connect(on_message_ready, sender=app, weak=False)
        try:
            from courses.api import enrolled
        except ImportError:  # courses not installed: no enrolments to tell about
            return
        enrolled.connect(on_enrolled, sender=app, weak=False)

    def nav_items(self, user: User) -> Iterable[NavItem]:
        from flask_babel import gettext as _

        from lms import db
        from notifications.services import unread_count

        unread = unread_count(db.session, user.id)
        label = _("Notifiche (%(num)d)", num=unread) if unread else _("Notifiche")
        return [NavItem(label, "notifications.index", order=50)]

    def privacy(self) -> PrivacyProvider:
        from notifications.privacy import PROVIDER

        return PROVIDER


plugin = NotificationsPlugin()
