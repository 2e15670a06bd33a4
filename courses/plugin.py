"""The courses plugin: Markdown-authored courses, versions, catalogue, progress."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click
from flask import Blueprint, Flask
from sqlalchemy.orm import Session

from lms.accounts.models import Role, User
from lms.i18n import lazy_gettext as _l
from lms.plugins import NavItem, Plugin, PrivacyProvider, Widget

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


class CoursesPlugin(Plugin):
    name = "courses"
    models = "courses.models"

    def blueprint(self) -> Blueprint:
        from courses import author_views, public_views, views  # noqa: F401  (routes join bp)
        from courses.blueprint import bp

        return bp

    def init_app(self, app: Flask) -> None:
        from courses.config import init_config

        init_config(app)

    def cli(self) -> click.Group:
        from courses.cli import courses_cli

        return courses_cli

    def privacy(self) -> PrivacyProvider:
        from courses.privacy import PROVIDER

        return PROVIDER

    def nav_items(self, user: User) -> Iterable[NavItem]:
        items = [NavItem(str(_l("Catalogo")), "courses.catalogue", order=10)]
        if user.has_role(Role.TRAINER, Role.ADMIN):
            items.append(NavItem(str(_l("Autori")), "courses.author_index", order=60))
        return items

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        """The person's courses with their progress and next step (after the commitments'
        "Da fare"); a trainer's own and co-authored courses."""
        from courses.authoring import authored_courses
        from courses.next_step import learning_rows
        from lms import db

        widgets = [
            Widget(
                str(_l("I miei corsi")),
                "courses/widgets/my_courses.html",
                context=(("learning", tuple(learning_rows(db.session, user.id))),),
                order=10,
            )
        ]
        if user.has_role(Role.TRAINER):
            widgets.append(
                Widget(
                    str(_l("I corsi che curi")),
                    "courses/widgets/authored.html",
                    context=(("authored", tuple(authored_courses(db.session, user))),),
                    order=30,
                )
            )
        return widgets

    def public_widgets(self) -> Iterable[Widget]:
        from courses.public import public_courses
        from lms import db

        versions = public_courses(db.session)
        if not versions:
            return []
        return [
            Widget(
                str(_l("Conoscere la violenza, sapere a chi rivolgersi")),
                "courses/widgets/public.html",
                context=(("public_courses", versions),),
                order=10,
            )
        ]

    def demo_data(self, session: Session) -> Iterable[str]:
        from courses.cli import import_path
        from courses.packs import discover_packs

        lines = []
        folders = {"content/": CONTENT_DIR} if CONTENT_DIR.is_dir() else {}
        folders.update(discover_packs())
        for name, folder in folders.items():
            results = import_path(folder, publish=True)
            published = sum(1 for r in results if r.published)
            lines.append(
                f"Corsi da {name}: {len(results)} ({published} nuove versioni pubblicate)."
            )
        from courses.authoring import give_ownerless_courses

        given = give_ownerless_courses(session, "formatrice@rete-milano.test")
        lines.append(f"Corsi affidati alla formatrice dimostrativa: {given}.")
        return lines


plugin = CoursesPlugin()
