"""The plugin's settings, with defaults, ``LMS_SURVEY_*`` environment variables and
``create_app(config=...)`` overrides (which win, as for core settings)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

# Whether a course's questionnaire must be answered before it completes is its evidence
# profile's rule (``survey_required``, courses.evidence), not an installation setting.
DEFAULTS: dict[str, Any] = {
    # A YAML file of questions in the shape of surveys/default_questions.yaml.
    "LMS_SURVEY_QUESTIONS_FILE": None,
}
REMOVED = "LMS_SURVEY_REQUIRED"


def init_config(app: Flask) -> None:
    if REMOVED in app.config or REMOVED in os.environ:
        # Ignoring it would silently require (or waive) the questionnaire: say what replaced it.
        raise RuntimeError(
            f"{REMOVED} was removed: the questionnaire is required where the course's evidence "
            "profile says so (survey_required); courses that declare none follow "
            "LMS_EVIDENCE_PROFILE (docs/course-format.md, 'Profili di evidenza')"
        )
    for key, default in DEFAULTS.items():
        if key not in app.config:
            app.config[key] = os.environ.get(key, default)
