"""Forms for sessions, registration, attendance and sign-in sheet import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from live_sessions.models import DEFAULT_TIME_ZONE
from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    audience = SelectField(_l("Profilo professionale"), validators=[Optional()])


class SessionForm(FlaskForm):
    title = StringField(
        _l("Titolo"), validators=[DataRequired(), Length(max=200), SingleLine(_l("Il titolo"))]
    )
    description = TextAreaField(_l("Descrizione"), validators=[Length(max=5000)])
    course = SelectField(
        _l("Corso"),
        validators=[Optional()],
        description=_l("Lascia vuoto per un incontro a sé stante."),
    )
    required = BooleanField(_l("Presenza obbligatoria per completare il corso"))
    day = DateField(_l("Data"), validators=[DataRequired()])
    start = TimeField(_l("Ora di inizio"), validators=[DataRequired()])
    time_zone = StringField(
        _l("Fuso orario"),
        default=DEFAULT_TIME_ZONE,
        validators=[DataRequired(), Length(max=64)],
        description=_l("Nome IANA, per esempio Europe/Rome."),
    )
    duration_minutes = IntegerField(
        _l("Durata (minuti)"), validators=[DataRequired(), NumberRange(min=1, max=7200)]
    )
    place = StringField(
        _l("Luogo (indirizzo)"),
        validators=[Optional(), Length(max=300), SingleLine(_l("Il luogo"))],
    )
    online_url = StringField(
        _l("Collegamento online"),
        validators=[Optional(), Length(max=500)],
        description=_l("Solo indirizzi https:// o http://."),
    )
    capacity = IntegerField(_l("Posti"), validators=[DataRequired(), NumberRange(min=1, max=5000)])
    waiting_list = BooleanField(_l("Lista d'attesa quando i posti sono esauriti"), default=True)
    all_audiences = BooleanField(_l("Aperto a tutti i profili professionali"))
    audiences = MultiCheckboxField(_l("Profili professionali"), coerce=int)
    trainers = MultiCheckboxField(_l("Formatrici e formatori"), coerce=int)
    hours = DecimalField(
        _l("Ore riconosciute"), places=2, validators=[DataRequired(), NumberRange(min=0, max=999)]
    )
    credits = StringField(
        _l("Crediti formativi professionali"),
        validators=[Optional(), Length(max=60), SingleLine(_l("Il testo dei crediti"))],
        description=_l("Per esempio «3 CFP» per avvocate e avvocati."),
    )
    registration_opens_at = DateTimeLocalField(
        _l("Apertura iscrizioni"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    registration_closes_at = DateTimeLocalField(
        _l("Chiusura iscrizioni"),
        validators=[Optional()],
        format="%Y-%m-%dT%H:%M",
        description=_l("Se vuoto, all'inizio dell'incontro."),
    )
    cancellation_deadline = DateTimeLocalField(
        _l("Termine per annullare l'iscrizione"),
        validators=[Optional()],
        format="%Y-%m-%dT%H:%M",
        description=_l("Se vuoto, fino all'inizio dell'incontro."),
    )


class AttendanceRowForm(Form):
    user_id = HiddenField()
    status = RadioField(
        _l("Presenza"),
        choices=[
            SelectChoice("present", _l("presente")),
            SelectChoice("partial", _l("parziale")),
            SelectChoice("absent", _l("assente")),
        ],
        validators=[Optional()],
    )
    minutes = IntegerField(_l("Minuti"), validators=[Optional(), NumberRange(min=1, max=7200)])


class AttendanceForm(FlaskForm):
    rows = FieldList(FormField(AttendanceRowForm))


class ImportForm(FlaskForm):
    sheet = FileField(
        _l("Foglio firme (.csv)"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Serve un file .csv"))],
    )


class StaffRegistrationForm(FlaskForm):
    live_session = SelectField(_l("Incontro"), coerce=int, validators=[DataRequired()])
    members = MultiCheckboxField(_l("Persone"), coerce=int)
