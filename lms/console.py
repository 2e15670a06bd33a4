"""The ``lms`` console script: a module nothing imports, so building the app from here
closes no import cycle (``lms`` -> ``lms.extension`` -> ``lms.cli``)."""

from __future__ import annotations

import sys

from flask.cli import ScriptInfo

from lms import create_app
from lms.config import ConfigurationError


def main() -> None:
    """Console script ``lms``: the app's ``lms`` group, app built from the environment.

    ``lms secret-key`` needs no app: it prints the secret the app refuses to start without.
    """
    if sys.argv[1:] == ["secret-key"]:
        from lms.cli import secret_key

        secret_key.main(args=[], prog_name="lms secret-key")
        return
    try:
        app = create_app()
    except ConfigurationError as error:  # what to set, said plainly: no traceback
        print(f"lms: {error}", file=sys.stderr)
        sys.exit(2)
    group = app.cli.commands["lms"]
    group.main(obj=ScriptInfo(create_app=lambda: app), prog_name="lms")
