"""The audit log pages: the whole log (admins, coordinator) and one organisation's
(its referents). Routes on the admin blueprint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from lms import audit, db
from lms.accounts.models import Role, User
from lms.admin.blueprint import bp
from lms.admin.forms import AuditFilterForm
from lms.authz import organisation_manager, roles_required
from lms.downloads import attachment


def _audit_filters(*, fixed_organisation: int | None) -> tuple[AuditFilterForm, dict[str, Any]]:
    """Read the filters; an id that names nobody (person, organisation) is a 404."""
    from lms.organisations.services import list_organisations

    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("Tutte le azioni"))] + [
        SelectChoice(code, label) for code, label in audit.action_choices()
    ]
    form.organisation.choices = [SelectChoice("", _("Tutti gli enti"))] + [
        SelectChoice(str(s.organisation.id), s.organisation.name)
        for s in list_organisations(db.session)
    ]
    form.validate()
    since, until = form.since.data, form.until.data
    person = form.person.data if not form.person.errors else None
    if person is not None and db.session.get(User, person) is None:
        abort(404)
    organisation = fixed_organisation
    if organisation is None and form.organisation.data:
        if not form.organisation.data.isdigit():
            abort(404)
        organisation = int(form.organisation.data)
        from lms.organisations.models import Organisation

        if db.session.get(Organisation, organisation) is None:
            abort(404)
    person_ids = None
    if current_user.is_admin and form.who.data and form.who.data.strip():
        # Names are the admin's to search: the coordinator sees none.
        pattern = f"%{form.who.data.strip().lower()}%"
        person_ids = list(
            db.session.scalars(
                select(User.id)
                .where(or_(func.lower(User.full_name).like(pattern), User.email.like(pattern)))
                .limit(200)
            )
        )
    return form, {
        "person_ids": person_ids,
        "action": form.action.data or None,
        "person_id": person,
        "organisation_id": organisation,
        "since": dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
        "until": dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        if until
        else None,
    }


def _visible_names(entries: list[audit.AuditEntry], org_id: int | None) -> dict[int, str]:
    """Names the viewer may see: an admin every one; a referent their organisation's
    people (present or past); the coordinator none (the network sees no names)."""
    if current_user.is_admin:
        return audit.people_names(db.session, entries)
    if org_id is None:
        return {}
    from lms.organisations.models import Membership

    members = set(
        db.session.scalars(select(Membership.user_id).where(Membership.organisation_id == org_id))
    )
    return {k: v for k, v in audit.people_names(db.session, entries).items() if k in members}


def _render(org_id: int | None, filename: str) -> Any:
    form, filters = _audit_filters(fixed_organisation=org_id)
    if request.args.get("format") == "csv":
        entries = audit.search(db.session, limit=None, **filters)
        return attachment(audit.to_csv(entries), filename, "text/csv")
    page = audit.search_page(db.session, page=form.page.data or 1, **filters)
    if page.page > page.pages:
        abort(404)
    organisation = None
    if org_id is not None:
        from lms.organisations.services import get_organisation

        organisation = get_organisation(db.session, org_id)
    names = _visible_names(page.entries, org_id)
    person = filters["person_id"]
    args = {k: v for k, v in request.args.items() if k not in ("page", "format") and v}
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        names=names,
        organisation=organisation,
        person_name=names.get(person) if person else None,
        args=args,
        args_without_person={k: v for k, v in args.items() if k != "person"},
    )


@bp.route("/audit/")
@roles_required(Role.ADMIN, Role.COORDINATOR)
def audit_log() -> Any:
    return _render(None, "registro-attivita.csv")


@bp.route("/organisations/<id:org_id>/audit/")
@organisation_manager()
def organisation_audit(org_id: int) -> Any:
    """A referent sees only entries about their own organisation."""
    return _render(org_id, f"registro-attivita-{org_id}.csv")
