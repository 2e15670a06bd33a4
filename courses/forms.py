"""Course forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

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


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CourseFrontForm(FlaskForm):
    """course.md's front matter and introduction as fields: nobody types YAML."""

    slug = StringField(
        _l("Identificativo (slug)"),
        validators=[Optional(), Length(min=3, max=80)],
        description=_l("Minuscole, cifre e trattini; non cambia più dopo la creazione."),
    )
    title = StringField(
        _l("Titolo"), validators=[DataRequired(), Length(max=200), SingleLine(_l("Il titolo"))]
    )
    summary = TextAreaField(_l("Descrizione breve (catalogo)"), validators=[DataRequired()])
    audiences = SelectMultipleField(
        _l("Profili professionali a cui è rivolto"),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Scegli almeno un profilo (o «Tutti»)."))],
    )
    objectives = TextAreaField(
        _l("Obiettivi di apprendimento"),
        validators=[DataRequired()],
        description=_l("Uno per riga."),
    )
    prerequisites = TextAreaField(
        _l("Corsi propedeutici (facoltativi)"),
        description=_l("Lo slug di un corso per riga."),
    )
    renewal_months = IntegerField(
        _l("Rinnovo dopo mesi (facoltativo)"), validators=[Optional(), NumberRange(min=1, max=120)]
    )
    evidence = SelectField(_l("Profilo di evidenza"), validators=[Optional()])
    self_enrolment = BooleanField(_l("Iscrizione libera dal catalogo"))
    public = BooleanField(_l("Pubblico: leggibile anche senza account"))
    intro = TextAreaField(_l("Introduzione (Markdown)"), validators=[Length(max=2_000_000)])

    def front_matter(self) -> dict[str, object]:
        """The keys this form writes; ``None`` removes an optional key."""
        evidence = self.evidence.data or None
        return {
            "title": self.title.data.strip(),
            "summary": " ".join(self.summary.data.split()),
            "audiences": list(self.audiences.data),
            "objectives": _lines(self.objectives.data),
            "prerequisites": _lines(self.prerequisites.data) or None,
            "renewal_months": self.renewal_months.data,
            "evidence": evidence,
            "self_enrolment": bool(self.self_enrolment.data),
            "public": True if self.public.data else None,
        }


class ModuleFrontForm(FlaskForm):
    title = StringField(
        _l("Titolo"), validators=[DataRequired(), Length(max=200), SingleLine(_l("Il titolo"))]
    )


class QUESTION_TYPES:  # noqa: N801 - a namespace of constants
    CHOICES = [
        SelectChoice("single", _l("Scelta singola")),
        SelectChoice("multiple", _l("Scelta multipla")),
        SelectChoice("true_false", _l("Vero o falso")),
        SelectChoice("short", _l("Risposta breve")),
        SelectChoice("ordering", _l("Ordinamento")),
        SelectChoice("matching", _l("Abbinamento")),
    ]


OPTION_ROWS = 6


class OptionRow(Form):
    """One option of a choice question (rows left empty are not written)."""

    text = StringField(_l("Testo dell'opzione"), validators=[Optional(), Length(max=1000)])
    correct = BooleanField(_l("Giusta"))
    feedback = StringField(_l("Commento se scelta"), validators=[Optional(), Length(max=1000)])


class QuestionForm(FlaskForm):
    """One question of the quiz block; options as a fixed set of rows (no script needed)."""

    qid = StringField(
        _l("Identificativo della domanda"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Minuscole, cifre, '-' e '_'; resta uguale tra le versioni."),
    )
    type = SelectField(_l("Tipo"), choices=QUESTION_TYPES.CHOICES)
    text = TextAreaField(_l("Domanda (Markdown)"), validators=[DataRequired(), Length(max=5000)])
    points = IntegerField(_l("Punti"), default=1, validators=[Optional(), NumberRange(1, 100)])
    feedback = TextAreaField(_l("Commento generale (facoltativo)"), validators=[Length(max=5000)])
    answer = SelectField(
        _l("Risposta giusta (vero o falso)"),
        choices=[SelectChoice("true", _l("Vero")), SelectChoice("false", _l("Falso"))],
    )
    lines = TextAreaField(
        _l("Risposte accettate, passaggi in ordine o coppie"),
        description=_l(
            "Una per riga. Risposta breve: le varianti accettate. Ordinamento: i passaggi "
            "nell'ordine giusto. Abbinamento: «sinistra = destra»."
        ),
    )
    options = FieldList(FormField(OptionRow), min_entries=OPTION_ROWS, max_entries=20)
    preview = SubmitField(_l("Anteprima"))
    save = SubmitField(_l("Salva la domanda nella bozza"))


class QuizSettingsForm(FlaskForm):
    pass_mark = IntegerField(
        _l("Soglia per superare il quiz (%)"), validators=[Optional(), NumberRange(0, 100)]
    )
    attempts = IntegerField(
        _l("Tentativi (0 = illimitati)"), validators=[Optional(), NumberRange(0, 100)]
    )


class CoauthorForm(FlaskForm):
    email = StringField(
        _l("E-mail della formatrice o del formatore"),
        # Looked up among trainers: no Email() check (it refuses the demo's .test domain).
        validators=[DataRequired(), Length(max=254)],
    )
