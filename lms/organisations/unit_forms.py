"""Forms of the organisation-unit pages and of the admin's merge of organisations.

Select fields carry ids as strings; the views fill the choices with what the reader may
pick (their subtree for a unit referent), so that a forged id fails validation.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l
from lms.organisations.units import UNIT_NAME_LENGTH

TOP_LEVEL = ""  # the "parent" of a top-level unit, and "no unit" for a person


class UnitForm(FlaskForm):
    name = StringField(
        _l("Nome dell'unità"),
        validators=[DataRequired(), Length(max=UNIT_NAME_LENGTH), SingleLine(_l("Il nome"))],
    )
    parent = SelectField(_l("Unità superiore"))


class RenameUnitForm(FlaskForm):
    name = StringField(
        _l("Nuovo nome"),
        validators=[DataRequired(), Length(max=UNIT_NAME_LENGTH), SingleLine(_l("Il nome"))],
    )


class MoveUnitForm(FlaskForm):
    parent = SelectField(_l("Nuova unità superiore"))


class CloseUnitForm(FlaskForm):
    pass


class PlaceMemberForm(FlaskForm):
    person = SelectField(_l("Persona"), validators=[DataRequired()])
    unit = SelectField(_l("Unità"))
    is_referent = BooleanField(_l("Referente dell'unità (e delle unità al suo interno)"))


class MergeChoiceForm(FlaskForm):
    """Which organisation to absorb: a look-up sent by GET, leading to the confirmation."""

    class Meta:
        csrf = False

    absorbed = SelectField(_l("Ente da assorbire"), validators=[DataRequired()])


class MergeConfirmForm(FlaskForm):
    """The confirmation's button: only the CSRF token."""
