"""The plugin's settings, with defaults, ``LMS_SURVEY_*`` environment variables and
``create_app(config=...)`` overrides (which win, as for core settings)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app

DEFAULTS: dict[str, Any] = {
    # The questionnaire must be answered before a course counts as complete (and so
    # before its certificate). Per-course exceptions belong to evidence profiles.
    "LMS_SURVEY_REQUIRED": True,
    # A YAML file of questions in the shape of surveys/default_questions.yaml.
    "LMS_SURVEY_QUESTIONS_FILE": None,
}
_TRUE = {"1", "true", "yes", "on"}


def init_config(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        if key in app.config:
            continue
        raw = os.environ.get(key)
        if raw is None:
            app.config[key] = default
        elif isinstance(default, bool):
            app.config[key] = raw.strip().lower() in _TRUE
        else:
            app.config[key] = raw


def survey_required() -> bool:
    return bool(current_app.config["LMS_SURVEY_REQUIRED"])
