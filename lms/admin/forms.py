"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import Field
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l
from lms.privacy import CONTROLLER_FIELDS

ROLE_CHOICES = [
    SelectChoice("trainer", _l("Formatrice o formatore")),
    SelectChoice("coordinator", _l("Coordinamento di rete")),
    SelectChoice("admin", _l("Amministrazione")),
]


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Cerca per nome o e-mail"), validators=[Optional(), Length(max=100)])


class RoleForm(FlaskForm):
    role = SelectField(_l("Ruolo"), choices=ROLE_CHOICES)


class EraseForm(FlaskForm):
    confirm_email = StringField(
        _l("Per confermare, scrivi l'indirizzo e-mail della persona"),
        validators=[DataRequired(), Length(max=254)],
    )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    # Choices are filled by the view (labelled actions, organisations); any value is
    # accepted so that an old link with an action nobody labelled still filters.
    action = SelectField(_l("Azione"), validators=[Optional()], validate_choice=False)
    person = IntegerField(_l("Persona"), validators=[Optional(), NumberRange(min=1)])
    who = StringField(_l("Persona (nome o e-mail)"), validators=[Optional(), Length(max=100)])
    organisation = SelectField(_l("Ente"), validators=[Optional()], validate_choice=False)
    since = DateField(_l("Dal"), validators=[Optional()])
    until = DateField(_l("Al"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])


class PrivacyNoticeForm(FlaskForm):
    text = TextAreaField(
        _l("Informativa (Markdown)"), validators=[DataRequired(), Length(max=200_000)]
    )


class CreateUserForm(FlaskForm):
    """A new account: the person sets their own password from the invitation."""

    full_name = StringField(
        _l("Nome e cognome"),
        validators=[DataRequired(), Length(max=200), SingleLine(_l("Il nome"))],
    )
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(
        _l("Ruolo sulla piattaforma"),
        choices=[SelectChoice("", _l("Nessun ruolo particolare")), *ROLE_CHOICES],
        validators=[Optional()],
    )
    organisation = SelectField(_l("Ente"), validators=[Optional()])
    audience = SelectField(_l("Profilo professionale"), validators=[Optional()])
    is_referent = BooleanField(_l("Referente dell'ente"))

    def validate(self, extra_validators: object = None) -> bool:
        ok = super().validate(extra_validators)  # type: ignore[arg-type]
        if self.organisation.data and not self.audience.data:
            self.audience.errors.append(_l("Scegli il profilo professionale nell'ente."))
            ok = False
        if self.is_referent.data and not self.organisation.data:
            self.is_referent.errors.append(_l("Chi è referente deve far parte di un ente."))
            ok = False
        return ok


ORGANISATION_CODE = Regexp(
    r"^[A-Z0-9][A-Z0-9-]{1,39}$",
    message=_l("Il codice usa lettere maiuscole, cifre e trattini (da 2 a 40 caratteri)."),
)


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Nome dell'ente"),
        validators=[DataRequired(), Length(max=255), SingleLine(_l("Il nome"))],
    )
    type = SelectField(_l("Tipo di ente"))
    signatory = BooleanField(_l("Firmatario del Protocollo"), default=True)


class NewOrganisationForm(OrganisationForm):
    code = StringField(
        _l("Codice"),
        description=_l("Per esempio CDM-PL-NTDM; non si può cambiare dopo."),
        validators=[DataRequired(), ORGANISATION_CODE],
        filters=[lambda value: value.strip().upper() if isinstance(value, str) else value],
    )


class EditOrganisationForm(OrganisationForm):
    active = BooleanField(_l("Ente attivo"))


def _email_address(form: FlaskForm, field: Field) -> None:
    """The platform's own e-mail rule (the one accounts use), not WTForms' stricter one."""
    from lms.accounts.emails import normalise_email
    from lms.errors import ServiceError

    if field.data:
        try:
            normalise_email(field.data)
        except ServiceError:
            raise ValidationError(_l("Indirizzo e-mail non valido.")) from None


class PrivacyControllerForm(FlaskForm):
    """The controller's details, one field per ``lms.privacy.CONTROLLER_FIELDS``."""


for _field in CONTROLLER_FIELDS:
    setattr(
        PrivacyControllerForm,
        _field.key,
        StringField(
            _field.label,
            validators=[Optional(), Length(max=300), SingleLine(_field.label)]
            + ([_email_address] if _field.email else []),
        ),
    )
