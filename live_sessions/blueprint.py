"""The live_sessions blueprint; routes live in the three ``*views`` modules."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import get_locale

bp = Blueprint("live_sessions", __name__, template_folder="templates")


@bp.app_template_filter("live_when")
def live_when(live: Any) -> str:
    """A session's date and time in its own time zone, in the reader's language."""
    from live_sessions.rosters import when

    return when(live, str(get_locale()))


@bp.app_template_global("live_status_label")
def live_status_label(value: str | None) -> str:
    """Italian (or English) words for registration and attendance states."""
    from lms.i18n import lazy_gettext as _l

    labels = {
        "confirmed": _l("confermata"),
        "waitlisted": _l("in lista d'attesa"),
        "cancelled": _l("annullata"),
        "present": _l("presente"),
        "partial": _l("parziale"),
        "absent": _l("assente"),
        "scheduled": _l("in programma"),
    }
    return str(labels.get(value or "", value or "—"))
