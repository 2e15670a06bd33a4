"""Referent pages: their staff's registrations and attendance, registering staff, export."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import SelectChoice

from live_sessions import registration, reminders, scheduling, staff
from live_sessions.blueprint import bp, live_when
from live_sessions.forms import StaffRegistrationForm
from lms import db
from lms.authz import current_person, organisation_manager
from lms.db import commit_with_retries
from lms.downloads import attachment
from lms.errors import ServiceError
from lms.exports import csv_writer, safe_cell
from lms.forms import ActionForm
from lms.organisations.services import current_members, get_organisation


@bp.route("/organisations/<id:org_id>/", methods=["GET", "POST"])
@organisation_manager()
def organisation(org_id: int) -> Any:
    org = get_organisation(db.session, org_id)
    members = current_members(db.session, org_id)
    form = StaffRegistrationForm()
    upcoming = scheduling.upcoming(db.session)
    form.live_session.choices = [
        SelectChoice(live.id, f"{live.title} — {live_when(live)}") for live in upcoming
    ]
    form.members.choices = [SelectChoice(m.user_id, m.user.full_name) for m in members]
    if form.validate_on_submit():
        user, session_id = current_person(), form.live_session.data
        created, problems = [], []
        for person_id in form.members.data:
            db.session.rollback()  # each registration starts with the session's lock
            try:
                created.append(
                    commit_with_retries(
                        lambda person_id=person_id: registration.register(
                            db.session, session_id, person_id, actor=user
                        )
                    )
                )
            except ServiceError as error:
                db.session.rollback()
                problems.append(str(error))
        for item in created:
            reminders.notify_registered(item, registration.waiting_position(db.session, item))
        for problem in problems:
            flash(problem, "error")
        if created:
            waiting = sum(1 for r in created if r.status == "waitlisted")
            flash(
                _(
                    "Iscrizioni registrate: %(n)d (di cui %(w)d in lista d'attesa).",
                    n=len(created),
                    w=waiting,
                ),
                "success",
            )
        return redirect(url_for("live_sessions.organisation", org_id=org_id))
    if form.is_submitted() and form.errors:
        flash(_("Scegli un incontro e almeno una persona."), "error")
    return render_template(
        "live_sessions/organisation.html",
        organisation=org,
        form=form,
        report=staff.organisation_report(db.session, org_id),
        action_form=ActionForm(),
        locale=str(get_locale()),
        next_url=request.path,
    )


@bp.route("/organisations/<id:org_id>/export.csv")
@organisation_manager()
def organisation_csv(org_id: int) -> Any:
    org = get_organisation(db.session, org_id)
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(
        ["nome", "email", "incontro", "data", "iscrizione", "presenza", "minuti", "ore", "crediti"]
    )
    for line in staff.organisation_report(db.session, org_id):
        writer.writerow([safe_cell(v) for v in line.as_csv_row()])
    if org is None:  # pragma: no cover - get_organisation raises
        abort(404)
    return attachment("\ufeff" + buffer.getvalue(), f"incontri-{org.code}.csv", "text/csv")
