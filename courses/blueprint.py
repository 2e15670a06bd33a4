"""The courses blueprint; routes live in ``views`` (learners) and ``author_views``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint(
    "courses",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.context_processor
def _completing_blocks() -> dict[str, Any]:
    """The app's fenced blocks that decide a module's completion (label, template)."""
    from courses.format import fenced_blocks

    return {"completing_blocks": [b for b in fenced_blocks() if b.completion_message is not None]}
