"""Quiz forms: the answers themselves are read from the request by question."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional


class StatsFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    organisation = SelectField(validators=[Optional()])
    audience = SelectField(validators=[Optional()])
