"""Learner pages: upcoming sessions, a session's page, registering, cancelling, .ics."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from courses.api import user_audience_codes
from live_sessions import calendar, registration, reminders, scheduling
from live_sessions.blueprint import bp
from live_sessions.forms import FilterForm
from live_sessions.policy import can_manage_session, can_schedule
from lms import clock, db
from lms.authz import authenticated, current_person
from lms.db import commit_with_retries
from lms.downloads import attachment
from lms.errors import Forbidden, ServiceError
from lms.forms import ActionForm
from lms.organisations.services import list_audiences
from lms.urls import safe_next_url


@bp.route("/")
@authenticated
def index() -> Any:
    form = FilterForm(request.args)
    locale = str(get_locale())
    form.audience.choices = [SelectChoice("", _("Tutti i profili"))] + [
        SelectChoice(a.code, a.name(locale)) for a in list_audiences(db.session)
    ]
    mine = user_audience_codes(db.session, current_user.id)
    if "audience" not in request.args and len(mine) == 1:
        form.audience.data = next(iter(mine))  # start from the person's own profile
    sessions = scheduling.upcoming(db.session, audience_code=form.audience.data or None)
    registrations = registration.my_registrations(db.session, current_user.id)
    return render_template(
        "live_sessions/index.html",
        form=form,
        sessions=sessions,
        registrations=registrations,
        registered={r.session_id: r for r in registrations},
        can_schedule=can_schedule(current_user),
        locale=locale,
    )


@bp.route("/<id:session_id>/")
@authenticated
def detail(session_id: int) -> Any:
    live = scheduling.get_session(db.session, session_id)
    mine = registration.active_registration(db.session, live.id, current_user.id)
    now = clock.now()
    return render_template(
        "live_sessions/detail.html",
        live=live,
        mine=mine,
        position=registration.waiting_position(db.session, mine) if mine else None,
        state=registration.registration_state(live, now),
        can_cancel=now < registration.cancellation_deadline(live),
        deadline=registration.cancellation_deadline(live),
        can_manage=can_manage_session(current_user, live),
        action_form=ActionForm(),
        locale=str(get_locale()),
    )


@bp.route("/<id:session_id>/register", methods=["POST"])
@authenticated
def register(session_id: int) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    user, user_id = current_person(), current_user.id
    db.session.rollback()  # end the read transaction: the action starts with the session's lock
    try:
        created = commit_with_retries(
            lambda: registration.register(db.session, session_id, user_id, actor=user)
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("live_sessions.detail", session_id=session_id))
    position = registration.waiting_position(db.session, created)
    reminders.notify_registered(created, position)
    if position is None:
        flash(
            _("Iscrizione confermata. Ti abbiamo inviato un'e-mail con il file per il calendario."),
            "success",
        )
    else:
        flash(
            _("L'incontro è al completo: sei in lista d'attesa (posizione %(n)d).", n=position),
            "success",
        )
    return redirect(url_for("live_sessions.detail", session_id=session_id))


@bp.route("/<id:session_id>/registrations/<id:registration_id>/cancel", methods=["POST"])
@authenticated
def cancel(session_id: int, registration_id: int) -> Any:
    """Used by the person, their referents and the session's trainers (the service decides)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = current_person()
    back = safe_next_url(request.form.get("next")) or url_for(
        "live_sessions.detail", session_id=session_id
    )
    db.session.rollback()  # end the read transaction: the action starts with the session's lock
    try:
        outcome = commit_with_retries(
            lambda: registration.cancel(db.session, session_id, registration_id, actor=user)
        )
    except Forbidden:
        db.session.rollback()
        abort(403)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    if outcome.registration.user_id != current_user.id:
        reminders.notify_cancelled_registration(outcome.registration)
    for promoted in outcome.promoted:
        reminders.notify_promoted(promoted)
    flash(_("Iscrizione annullata."), "success")
    return redirect(back)


@bp.route("/<id:session_id>/calendar.ics")
@authenticated
def calendar_file(session_id: int) -> Any:
    live = scheduling.get_session(db.session, session_id)
    data = calendar.session_ics(
        live,
        page_url=reminders.external_url("live_sessions.detail", session_id=live.id),
        base_url=current_app.config["LMS_BASE_URL"],
        now=clock.now(),
    )
    return attachment(data, f"incontro-{live.id}.ics", "text/calendar")
