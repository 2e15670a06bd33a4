"""The commitments blueprint; routes live in ``views``, ``import_views`` and ``admin_views``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "commitments",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
