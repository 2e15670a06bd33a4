"""The questionnaire (built from the installation's questions) and the results filter."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from lms.i18n import lazy_gettext as _l
from surveys.answering import MAX_COMMENT
from surveys.questions import Question

SCALE_LABELS = (
    _l("1 — per nulla"),
    _l("2 — poco"),
    _l("3 — abbastanza"),
    _l("4 — molto"),
    _l("5 — moltissimo"),
)


def field_name(question: Question) -> str:
    return f"q_{question.key}"


def survey_form(questions: tuple[Question, ...], locale: str) -> FlaskForm:
    """A form with one field per question: radio buttons 1-5, or a free comment."""

    class SurveyForm(FlaskForm):
        pass

    for question in questions:
        label = question.text(locale)
        if question.is_scale:
            field = RadioField(
                label,
                choices=[SelectChoice(str(n), str(text)) for n, text in enumerate(SCALE_LABELS, 1)],
                validators=[InputRequired(message=_l("Scegli un valore da 1 a 5."))],
            )
        else:
            field = TextAreaField(label, validators=[Optional(), Length(max=MAX_COMMENT)])
        setattr(SurveyForm, field_name(question), field)
    return SurveyForm()


MONTH = r"^$|^[0-9]{4}-(0[1-9]|1[0-2])$"


class ResultsFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    version = SelectField(_l("Versione"), validators=[Optional()])
    organisation_type = SelectField(_l("Tipo di organizzazione"), validators=[Optional()])
    month_from = StringField(
        _l("Dal mese (AAAA-MM)"),
        validators=[Optional(), Regexp(MONTH, message=_l("Scrivi il mese come AAAA-MM."))],
    )
    month_to = StringField(
        _l("Al mese (AAAA-MM)"),
        validators=[Optional(), Regexp(MONTH, message=_l("Scrivi il mese come AAAA-MM."))],
    )
