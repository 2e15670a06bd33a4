"""Certificate forms (Flask-WTF, so every POST carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from certificates.attachments import MAX_PDF_BYTES
from lms.i18n import lazy_gettext as _l

# Verification reads nothing larger than a certificate PDF may be.
MAX_UPLOAD_BYTES = MAX_PDF_BYTES


class CodeForm(FlaskForm):
    code = StringField(
        _l("Codice di verifica"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("Il codice stampato sull'attestato, con o senza trattini."),
    )


class UploadForm(FlaskForm):
    document = FileField(
        _l("File PDF dell'attestato"),
        validators=[FileRequired(_l("Scegli il file PDF da verificare."))],
    )


class OrganisationFilterForm(FlaskForm):
    """GET filters of the referent's list: no state changes, so no CSRF token."""

    class Meta:
        csrf = False

    key = SelectField(_l("Corso"), default="")
    status = SelectField(_l("Stato"), default="current")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Numero, codice, nome o e-mail"), validators=[Length(max=200)])


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo della revoca"), validators=[DataRequired(), Length(min=5, max=500)]
    )


class ReissueForm(FlaskForm):
    pass
