"""Commitment forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class DateChoiceForm(FlaskForm):
    """The date a report or export is generated for (GET: no CSRF)."""

    class Meta:
        csrf = False

    on = DateField(_l("Situazione al"), validators=[Optional()])


class MatrixFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField(_l("Cerca per nome o e-mail"), validators=[Optional(), Length(max=100)])
    audience = SelectField(_l("Profilo"), validators=[Optional()])
    status = SelectField(_l("Stato"), validators=[Optional()])


class StaffFileForm(FlaskForm):
    file = FileField(
        _l("Elenco del personale (CSV o XLSX)"),
        validators=[FileRequired(_l("Scegli un file."))],
        description=_l(
            "Colonne: email, nome, cognome, profilo. CSV in UTF-8 (anche con BOM) o "
            "Windows-1252, separato da punto e virgola o virgola; oppure un file Excel .xlsx."
        ),
    )


class ConfirmImportForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired()])


class CommitmentForm(FlaskForm):
    code = StringField(
        _l("Codice"),
        validators=[DataRequired(), Length(min=3, max=60)],
        description=_l(
            "Minuscole, cifre e trattini; identifica l'impegno nelle importazioni YAML."
        ),
    )
    title = StringField(
        _l("Titolo"), validators=[DataRequired(), Length(max=200), SingleLine(_l("Il titolo"))]
    )
    description = TextAreaField(_l("Descrizione"), validators=[Optional(), Length(max=4000)])
    organisation = SelectField(_l("Organizzazione"), validators=[Optional()])
    organisation_type = SelectField(_l("Tipo di organizzazione"), validators=[Optional()])
    audiences = MultiCheckboxField(_l("Profili professionali nel perimetro"), coerce=int)
    required_courses = MultiCheckboxField(_l("Corsi obbligatori (tutti)"), coerce=int)
    optional_courses = MultiCheckboxField(_l("Corsi a scelta"), coerce=int)
    choose_count = IntegerField(
        _l("Quanti corsi a scelta"),
        validators=[Optional(), NumberRange(min=0, max=50)],
        default=0,
    )
    renewal_months = IntegerField(
        _l("Validità massima di un completamento (mesi)"),
        validators=[Optional(), NumberRange(min=1, max=240)],
        description=_l("Vuoto: vale la scadenza del corso."),
    )
    required_hours = DecimalField(
        _l("Ore da raggiungere"),
        places=2,
        validators=[Optional(), NumberRange(min=0.01, max=1000)],
        description=_l(
            "Ore certificate dei corsi completati più ore degli incontri in presenza "
            "frequentati, valide alla data. Vuoto: nessun monte ore."
        ),
    )
    required_credits = DecimalField(
        _l("Crediti da raggiungere"),
        places=2,
        validators=[Optional(), NumberRange(min=0.01, max=1000)],
        description=_l(
            "Crediti dei corsi accreditati completati entro la validità "
            "dell'accreditamento. Vuoto: nessun credito richiesto."
        ),
    )
    target_percent = IntegerField(
        _l("Obiettivo di copertura (%)"),
        validators=[DataRequired(), NumberRange(min=1, max=100)],
        default=80,
    )
    deadline = DateField(_l("Termine"), validators=[DataRequired()])
    active = BooleanField(_l("Attivo"), default=True)


class DefinitionsFileForm(FlaskForm):
    file = FileField(
        _l("File YAML degli impegni"), validators=[FileRequired(_l("Scegli un file."))]
    )
