"""Staff import by the referent: upload, preview (dry run), confirm; template files."""

from __future__ import annotations

import os
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from commitments import jobs as commitment_jobs
from commitments.blueprint import bp
from commitments.config import setting
from commitments.forms import ConfirmImportForm, StaffFileForm
from commitments.reporting.exports import XLSX
from commitments.staff import files as staff_files
from commitments.staff import importing as staff_import
from commitments.staff.importing import Action
from lms import db
from lms.authz import current_person, organisation_manager
from lms.downloads import attachment
from lms.errors import FormatError, ServiceError
from lms.i18n import lazy_gettext as _l
from lms.limits import body_limit
from lms.organisations.services import get_organisation, list_audiences

ACTION_LABELS = {
    Action.NEW: _l("Nuovo account (riceverà l'invito)"),
    Action.ADD: _l("Account esistente: entra nell'organizzazione"),
    Action.REACTIVATE: _l("Di nuovo nell'organizzazione (storico conservato)"),
    Action.AUDIENCE: _l("Profilo aggiornato"),
    Action.UNIT: _l("Unità aggiornata"),
    Action.UNCHANGED: _l("Già presente, nessuna modifica"),
}

PREVIEW_ROWS = 200


def _render(organisation: Any, **context: Any) -> Any:
    context.setdefault("form", StaffFileForm())
    context.setdefault("plan", None)
    context.setdefault("file_errors", [])
    return render_template(
        "commitments/import.html",
        organisation=organisation,
        action_labels=ACTION_LABELS,
        preview_rows=PREVIEW_ROWS,
        max_bytes=setting("IMPORT_MAX_BYTES"),
        max_rows=setting("IMPORT_MAX_ROWS"),
        **context,
    )


def _read_upload(storage: Any) -> tuple[bytes, int]:
    """The file's bytes and size; a file over the limit is measured, not loaded."""
    limit = setting("IMPORT_MAX_BYTES")
    data = storage.stream.read(limit + 1)
    if len(data) <= limit:
        return data, len(data)
    storage.stream.seek(0, os.SEEK_END)
    return b"", storage.stream.tell()


@bp.route("/organisations/<id:org_id>/import", methods=["GET", "POST"])
@organisation_manager()
# Twice the file limit: a file somewhat too large is measured and the referent told its size.
@body_limit(lambda: 2 * setting("IMPORT_MAX_BYTES"))
def staff_import_page(org_id: int) -> Any:
    organisation = get_organisation(db.session, org_id)
    form = StaffFileForm()
    if not form.validate_on_submit():
        return _render(organisation, form=form)
    storage = form.file.data
    data, size = _read_upload(storage)
    too_large = staff_files.size_problem(size, setting("IMPORT_MAX_BYTES"))
    if too_large:
        return _render(organisation, form=form, file_errors=[too_large])
    try:
        parsed = staff_files.read_staff_file(
            storage.filename or "",
            data,
            max_bytes=setting("IMPORT_MAX_BYTES"),
            max_rows=setting("IMPORT_MAX_ROWS"),
        )
    except FormatError as error:
        return _render(organisation, form=form, file_errors=[i.message for i in error.issues])
    plan = staff_import.plan_import(db.session, organisation, parsed.rows)
    confirm = None
    if plan.ok and plan.changes:
        confirm = ConfirmImportForm()
        confirm.payload.data = staff_import.sign_rows(
            current_app.config["SECRET_KEY"], org_id, current_user.id, parsed.rows
        )
    return _render(organisation, form=form, plan=plan, parsed=parsed, confirm=confirm)


@bp.route("/organisations/<id:org_id>/import/apply", methods=["POST"])
@organisation_manager()
def staff_import_apply(org_id: int) -> Any:
    organisation = get_organisation(db.session, org_id)
    confirm = ConfirmImportForm()
    if not confirm.validate_on_submit():
        flash(_("Conferma non valida: carica di nuovo il file."), "error")
        return redirect(url_for("commitments.staff_import_page", org_id=org_id))
    try:
        rows = staff_import.read_signed_rows(
            current_app.config["SECRET_KEY"], confirm.payload.data, org_id, current_user.id
        )
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("commitments.staff_import_page", org_id=org_id))
    # Applied by a worker in slices (5,000 rows take seconds): the referent follows it
    # on the job's page, and nobody else waits behind it.
    job = commitment_jobs.ask_staff_import(
        db.session, organisation.id, rows, actor=current_person()
    )
    db.session.commit()
    return redirect(url_for("jobs.job_page", job_id=job.id))


def _audience_pairs() -> list[tuple[str, str]]:
    locale = str(get_locale())
    return [(a.code, a.name(locale)) for a in list_audiences(db.session)]


@bp.route("/organisations/<id:org_id>/import/modello.csv")
@organisation_manager()
def staff_template_csv(org_id: int) -> Any:
    return attachment(staff_files.template_csv(), "modello-personale.csv", "text/csv")


@bp.route("/organisations/<id:org_id>/import/modello.xlsx")
@organisation_manager()
def staff_template_xlsx(org_id: int) -> Any:
    data = staff_files.template_xlsx(_audience_pairs())
    return attachment(data, "modello-personale.xlsx", XLSX)


@bp.app_template_global("commitments_audience_pairs")
def audience_pairs_global() -> list[tuple[str, str]]:
    return _audience_pairs()
