"""Self-registration pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registration", __name__, template_folder="templates")
