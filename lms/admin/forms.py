"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.i18n import lazy_gettext as _l


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Cerca per nome o e-mail"), validators=[Optional(), Length(max=100)])


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Ruolo"),
        choices=[
            SelectChoice("trainer", _l("Formatrice/formatore")),
            SelectChoice("coordinator", _l("Coordinamento di rete")),
            SelectChoice("admin", _l("Amministrazione")),
        ],
    )


class EraseForm(FlaskForm):
    confirm_email = StringField(
        _l("Per confermare, scrivi l'indirizzo e-mail della persona"),
        validators=[DataRequired(), Length(max=254)],
    )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Azione"), validators=[Optional(), Length(max=60)])
    since = DateField(_l("Dal"), validators=[Optional()])
    until = DateField(_l("Al"), validators=[Optional()])


class PrivacyNoticeForm(FlaskForm):
    text = TextAreaField(
        _l("Informativa (Markdown)"), validators=[DataRequired(), Length(max=200_000)]
    )
