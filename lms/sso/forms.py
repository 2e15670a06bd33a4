"""Single sign-on forms: a provider (admin) and the sign-up of a new identity."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l
from lms.sso.models import DEFAULT_SCOPES

#: (form field, key of the provider's claim mapping, label)
CLAIM_FIELDS = (
    ("claim_subject", "subject", _l("Claim dell'identificativo stabile (vuoto: sub)")),
    ("claim_email", "email", _l("Claim dell'e-mail (vuoto: email)")),
    ("claim_name", "name", _l("Claim del nome completo (vuoto: name)")),
    ("claim_given_name", "given_name", _l("Claim del nome (vuoto: given_name)")),
    ("claim_family_name", "family_name", _l("Claim del cognome (vuoto: family_name)")),
    ("claim_organisation", "organisation", _l("Claim dell'organizzazione (codice o id)")),
    ("claim_audience", "audience", _l("Claim del ruolo professionale (codice)")),
)


class ProviderForm(FlaskForm):
    slug = StringField(
        _l("Identificativo nell'indirizzo"),
        validators=[DataRequired(), Length(max=40), SingleLine()],
        description=_l("Lettere minuscole, cifre e trattini: compare in /sso/<identificativo>/."),
    )
    display_name = StringField(
        _l("Nome sul pulsante"), validators=[DataRequired(), Length(max=120), SingleLine()]
    )
    issuer = StringField(
        _l("Issuer"),
        validators=[DataRequired(), Length(max=500), SingleLine()],
        description=_l(
            "L'indirizzo del fornitore: la configurazione si legge da "
            "<issuer>/.well-known/openid-configuration."
        ),
    )
    client_id = StringField(
        _l("Client ID"), validators=[DataRequired(), Length(max=255), SingleLine()]
    )
    client_secret = PasswordField(
        _l("Client secret"),
        validators=[Optional(), Length(max=500)],
        description=_l(
            "Meglio env:NOME, il nome di una variabile d'ambiente del server: "
            "il segreto non entra nel database. Vuoto: resta quello salvato."
        ),
    )
    scopes = StringField(
        _l("Scope"), default=DEFAULT_SCOPES, validators=[DataRequired(), Length(max=255)]
    )
    enabled = BooleanField(_l("Attivo"), default=True)
    organisations = SelectMultipleField(
        _l("Organizzazioni in cui creare nuovi account"),
        coerce=int,
        validate_choice=True,
        description=_l("Nessuna: chi non ha già un account non può entrare."),
    )
    claim_subject = StringField(CLAIM_FIELDS[0][2], validators=[Optional(), Length(max=100)])
    claim_email = StringField(CLAIM_FIELDS[1][2], validators=[Optional(), Length(max=100)])
    claim_name = StringField(CLAIM_FIELDS[2][2], validators=[Optional(), Length(max=100)])
    claim_given_name = StringField(CLAIM_FIELDS[3][2], validators=[Optional(), Length(max=100)])
    claim_family_name = StringField(CLAIM_FIELDS[4][2], validators=[Optional(), Length(max=100)])
    claim_organisation = StringField(CLAIM_FIELDS[5][2], validators=[Optional(), Length(max=100)])
    claim_audience = StringField(CLAIM_FIELDS[6][2], validators=[Optional(), Length(max=100)])

    def claim_mapping(self) -> dict[str, str]:
        return {key: (getattr(self, name).data or "").strip() for name, key, _ in CLAIM_FIELDS}


class JoinForm(FlaskForm):
    organisation = SelectField(_l("Organizzazione"), coerce=int, validate_choice=True)
    audience = SelectField(_l("Ruolo professionale"), coerce=int, validate_choice=True)
