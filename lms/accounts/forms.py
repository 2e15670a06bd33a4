"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from lms.accounts.models import PROFESSIONAL_ID_LENGTH
from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Ricordami su questo dispositivo"))
    # Labelled (never shown) so that building the form does not make Flask-WTF load
    # wtforms' message catalogue from disk for a default label.
    next = HiddenField("Next")


class NewPasswordMixin:
    password = PasswordField(
        _l("Nuova password"),
        validators=[DataRequired(), Length(min=10, max=1024)],
        description=_l("Almeno 10 caratteri."),
    )
    confirm = PasswordField(
        _l("Ripeti la nuova password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Le password non coincidono."))],
    )


class SetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField(_l("Password attuale"), validators=[DataRequired()])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class LogoutForm(FlaskForm):
    pass


class ProfessionalIdForm(FlaskForm):
    """The person's own data that reports to accrediting bodies need (never required)."""

    professional_id = StringField(
        _l("Codice fiscale o n. di iscrizione all'albo/ordine"),
        validators=[
            Optional(),
            SingleLine(_l("Il codice")),
            Length(max=PROFESSIONAL_ID_LENGTH),
        ],
        description=_l(
            "Facoltativo. Serve a chi accredita i corsi (ECM, ordini professionali) per "
            "riconoscerti i crediti: compare nel registro dei partecipanti dei corsi "
            "accreditati che completi."
        ),
    )
