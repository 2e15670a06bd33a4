"""The surveys blueprint; routes live in ``views``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("surveys", __name__, template_folder="templates")
