"""Coordinator and admin pages: the commitments, edited one by one or imported as YAML."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from commitments.blueprint import bp
from commitments.forms import CommitmentForm, DefinitionsFileForm
from commitments.manage import definitions
from courses.api import CourseVersion, latest_versions_query
from lms import db
from lms.accounts.models import Role
from lms.authz import current_person, roles_required
from lms.errors import FormatError, ServiceError
from lms.limits import body_limit
from lms.organisations.models import Organisation, OrganisationType
from lms.organisations.services import list_audiences
from lms.organisations.views import organisation_type_label

DEFINITIONS_MAX_BYTES = 1024 * 1024


@bp.route("/manage/", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
@body_limit(DEFINITIONS_MAX_BYTES)
def manage() -> Any:
    """The list, and the YAML import for the whole network (all or nothing)."""
    upload = DefinitionsFileForm()
    issues: list[str] = []
    status = 200
    if upload.validate_on_submit():
        text = upload.file.data.read(DEFINITIONS_MAX_BYTES + 1)
        try:
            if len(text) > DEFINITIONS_MAX_BYTES:
                raise ServiceError(_("Il file YAML supera 1 MB."))
            outcomes = definitions.import_yaml(
                db.session,
                text.decode("utf-8-sig"),
                filename=upload.file.data.filename or "",
                actor=current_person(),
            )
        except FormatError as error:
            db.session.rollback()
            issues = [str(i) for i in error.issues]
            status = 422  # refused, as a course upload with errors
            flash(_("Importazione annullata: nessuna modifica."), "error")
        except (ServiceError, UnicodeDecodeError) as error:
            db.session.rollback()
            flash(
                str(error) if isinstance(error, ServiceError) else _("Il file non è UTF-8."),
                "error",
            )
        else:
            db.session.commit()
            done = {
                state: sum(1 for o in outcomes if o.state == state)
                for state in ("created", "updated", "unchanged")
            }
            flash(
                _(
                    "Impegni creati: %(c)d, aggiornati: %(u)d, invariati: %(s)d.",
                    c=done["created"],
                    u=done["updated"],
                    s=done["unchanged"],
                ),
                "success",
            )
            return redirect(url_for("commitments.manage"))
    return render_template(
        "commitments/manage.html",
        commitments=definitions.list_all(db.session),
        upload=upload,
        issues=issues,
        locale=str(get_locale()),
    ), status


def _form_choices(form: CommitmentForm) -> dict[int, str]:
    locale = str(get_locale())
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
    form.organisation.choices = [SelectChoice("", _("— tutte —"))] + [
        SelectChoice(str(o.id), o.name) for o in organisations
    ]
    form.organisation_type.choices = [SelectChoice("", _("— tutti —"))] + [
        SelectChoice(t.value, organisation_type_label(t.value)) for t in OrganisationType
    ]
    form.audiences.choices = [(a.id, a.name(locale)) for a in list_audiences(db.session)]
    titles = {
        course_id: title
        for course_id, title in db.session.execute(
            latest_versions_query().with_only_columns(CourseVersion.course_id, CourseVersion.title)
        )
    }
    courses = sorted(titles.items(), key=lambda item: item[1])
    form.required_courses.choices = courses
    form.optional_courses.choices = courses
    return titles


def _ordered(chosen: list[int] | None, commitment: Any) -> list[int]:
    """Keep the commitment's own course order (it is the enrol-all preference)."""
    known = {c.course_id: c.position for c in commitment.courses} if commitment else {}
    return sorted(chosen or [], key=lambda cid: (cid not in known, known.get(cid, 0)))


def _data(form: CommitmentForm, commitment: Any = None) -> definitions.CommitmentData:
    optional = _ordered(form.optional_courses.data, commitment)
    return definitions.CommitmentData(
        code=(form.code.data or "").strip(),
        title=form.title.data or "",
        description=form.description.data or "",
        audience_ids=list(form.audiences.data or []),
        organisation_id=int(form.organisation.data) if form.organisation.data else None,
        organisation_type=form.organisation_type.data or None,
        required_course_ids=_ordered(form.required_courses.data, commitment),
        optional_course_ids=optional,
        choose_count=(form.choose_count.data or 0) if optional else 0,
        renewal_months=form.renewal_months.data,
        required_hours=form.required_hours.data or None,
        required_credits=form.required_credits.data or None,
        target_percent=form.target_percent.data or 0,
        deadline=form.deadline.data,
        active=bool(form.active.data),
    )


def _edit(commitment: Any) -> Any:
    form = CommitmentForm(obj=None if commitment is None else _FormObject(commitment))
    _form_choices(form)
    if form.validate_on_submit():
        try:
            definitions.save(
                db.session, _data(form, commitment), commitment, actor=current_person()
            )
        except ServiceError as error:
            db.session.rollback()
            for detail in error.details or [str(error)]:
                flash(detail, "error")
        else:
            db.session.commit()
            flash(_("Impegno salvato."), "success")
            return redirect(url_for("commitments.manage"))
    return render_template("commitments/edit.html", form=form, commitment=commitment)


class _FormObject:
    """A commitment seen as the form's fields."""

    def __init__(self, commitment: Any) -> None:
        self.code = commitment.code
        self.title = commitment.title
        self.description = commitment.description
        self.organisation = str(commitment.organisation_id or "")
        self.organisation_type = commitment.organisation_type or ""
        self.audiences = [a.id for a in commitment.audiences]
        self.required_courses = [c.course_id for c in commitment.required_courses]
        self.optional_courses = [c.course_id for c in commitment.optional_courses]
        self.choose_count = commitment.choose_count
        self.renewal_months = commitment.renewal_months
        self.required_hours = commitment.required_hours
        self.required_credits = commitment.required_credits
        self.target_percent = commitment.target_percent
        self.deadline = commitment.deadline
        self.active = commitment.active


@bp.route("/manage/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def new_commitment() -> Any:
    return _edit(None)


@bp.route("/manage/<id:commitment_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.COORDINATOR)
def edit_commitment(commitment_id: int) -> Any:
    try:
        commitment = definitions.get(db.session, commitment_id)
    except ServiceError:
        abort(404)
    return _edit(commitment)
