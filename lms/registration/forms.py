"""Registration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from lms.accounts.forms import NewPasswordMixin
from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l
from lms.registration.services import MAX_JOIN_CODE_LENGTH, MAX_REASON_LENGTH


class RegistrationForm(FlaskForm):
    full_name = StringField(
        _l("Nome e cognome"),
        validators=[DataRequired(), Length(max=200), SingleLine(_l("Il nome"))],
    )
    email = EmailField(
        _l("E-mail di lavoro"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("Riceverai un link per confermarla."),
    )
    unit = SelectField(_l("Unità (facoltativa)"), coerce=int, validate_choice=True)
    audience = SelectField(_l("Profilo professionale"), coerce=int, validate_choice=True)
    join_code = StringField(
        _l("Codice di adesione"),
        validators=[Optional(), Length(max=MAX_JOIN_CODE_LENGTH)],
        description=_l("Te lo comunica la tua organizzazione."),
    )
    privacy = BooleanField(
        _l("Ho letto l'informativa sul trattamento dei dati personali"),
        validators=[InputRequired()],
    )


class ConfirmForm(NewPasswordMixin, FlaskForm):
    pass


class RuleForm(FlaskForm):
    enabled = BooleanField(_l("Accetta registrazioni"))
    domains = TextAreaField(
        _l("Domini e-mail ammessi"),
        validators=[Length(max=5000)],
        description=_l(
            "Uno per riga (es. comune.milano.it); vuoto: qualsiasi indirizzo. "
            "Il dominio deve coincidere esattamente."
        ),
    )
    auto_approve_domain = BooleanField(
        _l("Approva automaticamente gli indirizzi dei domini ammessi")
    )
    join_code = StringField(
        _l("Nuovo codice di adesione"),
        validators=[Optional(), Length(max=MAX_JOIN_CODE_LENGTH), SingleLine(_l("Il codice"))],
        description=_l("Lascia vuoto per mantenere il codice attuale."),
    )
    clear_join_code = BooleanField(_l("Elimina il codice di adesione"))


class RefuseForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo del rifiuto"),
        validators=[DataRequired(), Length(max=MAX_REASON_LENGTH)],
        description=_l("Sarà inviato alla persona."),
    )
