"""The ``lms`` console script: a module nothing imports, so building the app from here
closes no import cycle (``lms`` -> ``lms.extension`` -> ``lms.cli``)."""

from __future__ import annotations

from flask.cli import ScriptInfo

from lms import create_app


def main() -> None:
    """Console script ``lms``: the app's ``lms`` group, app built from the environment."""
    app = create_app()
    group = app.cli.commands["lms"]
    group.main(obj=ScriptInfo(create_app=lambda: app), prog_name="lms")
