"""Organisations managed by the administrator: list, create, rename, deactivate.

The database is the registry at run time; ``lms seed-organisations`` still loads the
protocol's YAML file (it adds and renames by code, never deletes)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from lms import db
from lms.accounts.models import Role
from lms.admin.blueprint import bp
from lms.admin.forms import EditOrganisationForm, NewOrganisationForm, OrganisationForm
from lms.authz import current_person, roles_required
from lms.errors import ServiceError
from lms.organisations import services
from lms.organisations.models import Organisation, OrganisationType

admin_only = roles_required(Role.ADMIN)


def _with_types(form: OrganisationForm) -> OrganisationForm:
    from lms.organisations.views import organisation_type_label

    form.type.choices = [
        SelectChoice(t.value, organisation_type_label(t.value)) for t in OrganisationType
    ]
    return form


@bp.route("/organisations/")
@admin_only
def organisations() -> Any:
    found = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    return render_template("admin/organisations.html", organisations=found)


@bp.route("/organisations/new", methods=["GET", "POST"])
@admin_only
def new_organisation() -> Any:
    form = _with_types(NewOrganisationForm())
    if form.validate_on_submit():
        try:
            org = services.create_organisation(
                db.session,
                name=form.name.data,
                code=form.code.data,
                type=form.type.data,
                signatory=form.signatory.data,
                actor=current_person(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Ente creato: %(name)s.", name=org.name), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=None)


@bp.route("/organisations/<id:org_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_organisation(org_id: int) -> Any:
    org = db.session.get(Organisation, org_id) or abort(404)
    # The organisation fills the form only on GET: a POST says every field itself.
    form = _with_types(EditOrganisationForm(obj=org if request.method == "GET" else None))
    if form.validate_on_submit():
        try:
            services.update_organisation(
                db.session,
                org,
                name=form.name.data,
                type=form.type.data,
                signatory=form.signatory.data,
                active=form.active.data,
                actor=current_person(),
            )
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Ente aggiornato."), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=org)
