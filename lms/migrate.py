"""Alembic wiring: one history in ``migrations/`` for the core and every plugin.

Each plugin's revisions carry its name as a branch label and ``upgrade`` goes to
every head (why one history and not one per plugin: :mod:`lms.plugins`). The
version table is ``lms_alembic_version`` so that a host application's own Alembic
history never collides with ours.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

VERSION_TABLE = "lms_alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(app: Flask) -> Config:
    state = app.extensions["lms"]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    cfg.attributes["engine"] = state.engine
    return cfg


def upgrade(app: Flask, revision: str = "heads") -> None:
    command.upgrade(alembic_config(app), revision)


def current_heads(app: Flask) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with app.extensions["lms"].engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return set(context.get_current_heads())
