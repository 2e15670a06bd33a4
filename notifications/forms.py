"""The preferences form: one checkbox per optional kind (e-mail on or off)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from notifications.models import Kind

#: labels of the optional kinds, in the order shown
OPTIONAL_LABELS = {
    Kind.CERTIFICATE_EXPIRING: _l("Promemoria di attestati in scadenza"),
    Kind.SESSION_REMINDER: _l("Promemoria il giorno prima degli incontri"),
    Kind.DIGEST: _l("Riepiloghi per referenti sulla formazione del personale"),
}


class PreferencesForm(FlaskForm):
    certificate_expiring = BooleanField(OPTIONAL_LABELS[Kind.CERTIFICATE_EXPIRING])
    session_reminder = BooleanField(OPTIONAL_LABELS[Kind.SESSION_REMINDER])
    digest = BooleanField(OPTIONAL_LABELS[Kind.DIGEST])
