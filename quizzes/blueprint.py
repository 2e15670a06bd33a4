"""The quizzes blueprint; routes live in ``views`` (attempts and statistics)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "quizzes",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
