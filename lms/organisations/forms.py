"""Organisation forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l


class InviteMemberForm(FlaskForm):
    full_name = StringField(
        _l("Nome e cognome"),
        validators=[DataRequired(), Length(max=200), SingleLine(_l("Il nome"))],
    )
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    audience = SelectField(_l("Profilo professionale"), validators=[DataRequired()])
    is_referent = BooleanField(_l("Referente dell'organizzazione"))


class RemoveMemberForm(FlaskForm):
    pass
