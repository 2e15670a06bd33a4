"""The organisations blueprint, apart from its views so that each views module can add
routes to it without importing another (``lms.organisations.views`` imports them all
once), as ``lms.admin.blueprint`` does."""

from flask import Blueprint

bp = Blueprint("organisations", __name__, template_folder="templates")
