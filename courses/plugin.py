"""The courses plugin: Markdown-authored courses, versions, catalogue, progress."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click
from flask import Blueprint
from sqlalchemy.orm import Session

from lms.accounts.models import Role, User
from lms.i18n import lazy_gettext as _l
from lms.plugins import NavItem, Plugin, Widget

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


class CoursesPlugin(Plugin):
    name = "courses"
    models = "courses.models"

    def blueprint(self) -> Blueprint:
        from courses import author_views, views  # noqa: F401  (their routes join the blueprint)
        from courses.blueprint import bp

        return bp

    def cli(self) -> click.Group:
        from courses.cli import courses_cli

        return courses_cli

    def nav_items(self, user: User) -> Iterable[NavItem]:
        items = [NavItem(str(_l("Catalogo")), "courses.catalogue", order=10)]
        if user.has_role(Role.TRAINER, Role.ADMIN):
            items.append(NavItem(str(_l("Autori")), "courses.author_index", order=60))
        return items

    def dashboard_widgets(self, user: User) -> Iterable[Widget]:
        return [Widget(str(_l("I miei corsi")), "courses/_widget_my_courses.html", order=10)]

    def demo_data(self, session: Session) -> Iterable[str]:
        from courses.cli import import_path

        if not CONTENT_DIR.is_dir():
            return []
        results = import_path(CONTENT_DIR, publish=True)
        published = sum(1 for r in results if r.published)
        return [f"Corsi da content/: {len(results)} ({published} nuove versioni pubblicate)."]


plugin = CoursesPlugin()
