"""The surveys blueprint; routes live in ``views``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("surveys", __name__, template_folder="templates")


@bp.app_template_global("survey_answered")
def survey_answered(version: Any) -> bool:
    """Whether the signed-in person answered this version's questionnaire (course page)."""
    from flask_login import current_user

    from lms import db
    from surveys.answering import has_answered

    return has_answered(db.session, current_user.id, version.id)
