"""Core forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SelectChoice, SelectField
from wtforms.validators import ValidationError

from lms.i18n import LANGUAGE_NAMES
from lms.i18n import lazy_gettext as _l
from lms.text import TextError, flatten, single_line


class SingleLine:
    """For every single-line field (titles, names, places): no line breaks, no control
    characters (see :mod:`lms.text`); a valid value is left normalised in ``field.data``,
    a refused one is shown again flattened to one line, for the person to check and send.

    ``what`` names the field in the message: ``SingleLine(_l("Il titolo"))`` gives
    "Il titolo non può contenere a capo: scrivilo su una riga."
    """

    def __init__(self, what: Any = None) -> None:
        self.what = what

    def __call__(self, form: Any, field: Field) -> None:
        if not isinstance(field.data, str) or not field.data:
            return
        try:
            field.data = single_line(field.data, what=str(self.what) if self.what else None)
        except TextError as error:
            field.data = flatten(field.data)
            raise ValidationError(str(error)) from None


class ActionForm(FlaskForm):
    """A button that changes state (start, enrol, publish...): only the CSRF token."""


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Lingua"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    )
    # Labelled (never shown) so that building the form does not make Flask-WTF load
    # wtforms' message catalogue from disk for a default label.
    next = HiddenField("Next")
