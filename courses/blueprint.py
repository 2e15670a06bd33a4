"""The courses blueprint; routes live in ``views`` (learners) and ``author_views``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "courses",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
