"""The admin blueprint, apart from its views so that each views module can add routes to
it without importing another (``lms.admin.views`` imports them all once)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")
