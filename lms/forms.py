"""Core forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField

from lms.i18n import LANGUAGE_NAMES
from lms.i18n import lazy_gettext as _l


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Lingua"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    )
    # Labelled (never shown) so that building the form does not make Flask-WTF load
    # wtforms' message catalogue from disk for a default label.
    next = HiddenField("Next")
