"""Single sign-on pages (OpenID Connect)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sso", __name__, template_folder="templates")
