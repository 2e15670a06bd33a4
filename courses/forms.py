"""Course forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.forms import SingleLine
from lms.i18n import lazy_gettext as _l


class CatalogueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Cerca"), validators=[Optional(), Length(max=100)])
    audience = SelectField(_l("Profilo professionale"), validators=[Optional()])


class UploadCourseForm(FlaskForm):
    archive = FileField(
        _l("Cartella del corso compressa (.zip)"),
        validators=[FileRequired(), FileAllowed(["zip"], _l("Serve un file .zip"))],
    )
    publish = BooleanField(_l("Pubblica subito"))


class ModuleForm(FlaskForm):
    title = StringField(
        _l("Titolo"), validators=[DataRequired(), Length(max=200), SingleLine(_l("Il titolo"))]
    )
    estimated_minutes = IntegerField(
        _l("Durata dichiarata (minuti, facoltativa)"),
        validators=[Optional(), NumberRange(min=1, max=6000)],
        description=_l(
            "Vuota: vale la durata calcolata dal testo. Al massimo la durata calcolata più il "
            "50 % per l'approfondimento."
        ),
    )
    body = TextAreaField(_l("Testo del modulo (Markdown)"), validators=[Length(max=2_000_000)])


class NewModuleForm(FlaskForm):
    slug = StringField(
        _l("Identificativo (slug)"),
        validators=[DataRequired(), Length(min=3, max=60)],
        description=_l("Minuscole, cifre e trattini; resta uguale tra le versioni."),
    )
    title = StringField(
        _l("Titolo"), validators=[DataRequired(), Length(max=200), SingleLine(_l("Il titolo"))]
    )


class CourseMetaForm(FlaskForm):
    """The course.md file as the trainer writes it (front matter + introduction)."""

    source = TextAreaField(_l("course.md"), validators=[DataRequired(), Length(max=2_000_000)])


class EnrolStaffForm(FlaskForm):
    course = SelectField(_l("Corso"), validators=[DataRequired()])
    # Labelled (never shown): see lms.forms.LanguageForm.next.
    members = HiddenField("Members")
