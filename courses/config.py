"""The plugin's settings: defaults, ``LMS_*`` environment variables, and
``create_app(config=...)`` overrides (which win, as for core settings)."""

from __future__ import annotations

import os

from flask import Flask

from courses.evidence import DEFAULT_PROFILE, check_setting


def init_config(app: Flask) -> None:
    # The evidence profile of courses that declare none: a built-in's name
    # (environment) or, in the app's config, adjusted rules {base: name, rule: value}.
    if "LMS_EVIDENCE_PROFILE" not in app.config:
        app.config["LMS_EVIDENCE_PROFILE"] = os.environ.get("LMS_EVIDENCE_PROFILE", DEFAULT_PROFILE)
    check_setting(app.config["LMS_EVIDENCE_PROFILE"])
