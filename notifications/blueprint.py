"""The notifications blueprint; routes live in ``views``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")
