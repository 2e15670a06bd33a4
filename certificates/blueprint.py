"""The certificates blueprint; routes live in ``views`` (holders, verification, admin)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certificates", __name__, template_folder="templates", static_folder="static")
