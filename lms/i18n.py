"""Locale choice: the user's stored preference, then the session's, then Italian."""

from __future__ import annotations

from flask import has_request_context, session
from flask_babel import lazy_gettext
from flask_login import current_user

from lms.accounts.models import SUPPORTED_LOCALES

__all__ = ["SUPPORTED_LOCALES", "lazy_gettext", "select_locale", "select_timezone"]

LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


def select_locale() -> str:
    if not has_request_context():
        return "it"
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in SUPPORTED_LOCALES else "it"


def select_timezone() -> str:
    return "Europe/Rome"
