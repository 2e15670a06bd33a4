"""The administrator merges one organisation into another: choose, confirm, merge.

The confirmation counts what will move (people, units, and every plugin's rows) before
anything changes; :mod:`lms.organisations.merging` does the work and keeps the history.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from lms import db
from lms.accounts.models import Role
from lms.admin.blueprint import bp
from lms.authz import current_person, roles_required
from lms.errors import ServiceError
from lms.organisations import services
from lms.organisations.merging import merge_organisations, plan_merge
from lms.organisations.models import Organisation
from lms.organisations.unit_forms import MergeChoiceForm, MergeConfirmForm

admin_only = roles_required(Role.ADMIN)


@bp.route("/organisations/<id:org_id>/merge")
@admin_only
def merge_organisation(org_id: int) -> Any:
    """Choose the organisation that this one absorbs (a GET form: nothing changes)."""
    target = services.get_organisation(db.session, org_id)
    form = MergeChoiceForm(request.args)
    others = db.session.scalars(
        select(Organisation).where(Organisation.id != org_id).order_by(Organisation.name)
    )
    form.absorbed.choices = [
        SelectChoice(str(o.id), o.name if o.active else _("%(name)s (disattivato)", name=o.name))
        for o in others
    ]
    if request.args and form.validate():
        return redirect(
            url_for("admin.merge_confirm", org_id=org_id, absorbed_id=int(form.absorbed.data))
        )
    return render_template("admin/organisation_merge.html", target=target, form=form)


@bp.route("/organisations/<id:org_id>/merge/<id:absorbed_id>", methods=["GET", "POST"])
@admin_only
def merge_confirm(org_id: int, absorbed_id: int) -> Any:
    """GET says what will move; POST merges."""
    target = services.get_organisation(db.session, org_id)
    absorbed = services.get_organisation(db.session, absorbed_id)
    form = MergeConfirmForm()
    try:
        if form.validate_on_submit():
            absorbed_name = absorbed.name  # renamed by the merge
            result = merge_organisations(db.session, absorbed, target, actor=current_person())
            db.session.commit()
            flash(
                _(
                    "%(absorbed)s è ora l'unità «%(unit)s» di %(target)s; l'ente assorbito è "
                    "disattivato e la sua storia resta.",
                    absorbed=absorbed_name,
                    unit=result.unit.name,
                    target=target.name,
                ),
                "success",
            )
            return redirect(url_for("organisations.units", org_id=org_id))
        plan = plan_merge(db.session, absorbed, target)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.merge_organisation", org_id=org_id))
    return render_template("admin/organisation_merge_confirm.html", plan=plan, form=form)
