"""Trainer pages: scheduling, the roster, attendance marking and import, sign-in sheet, export.

Views carry ``roles_required(TRAINER)`` (admins pass too); which sessions a
trainer may touch is decided by ``policy.can_manage_session`` (their own only).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from courses.api import catalogue
from live_sessions import (
    attendance,
    attendance_import,
    registration,
    reminders,
    rosters,
    scheduling,
)
from live_sessions.blueprint import bp
from live_sessions.forms import AttendanceForm, ImportForm, SessionForm
from live_sessions.models import AttendanceStatus, LiveSession
from live_sessions.policy import can_manage_session
from lms import clock, db
from lms.accounts.models import Role
from lms.authz import current_person, roles_required
from lms.db import commit_with_retries
from lms.downloads import attachment
from lms.errors import FormatError, ServiceError
from lms.forms import ActionForm
from lms.limits import body_limit
from lms.organisations.services import list_audiences

HEADING = "Formazione · Rete antiviolenza di Milano"


def _managed(session_id: int) -> LiveSession:
    live = scheduling.get_session(db.session, session_id)
    if not can_manage_session(current_user, live):
        abort(403)
    return live


@bp.route("/manage/")
@roles_required(Role.TRAINER)
def manage() -> Any:
    return render_template(
        "live_sessions/manage.html",
        sessions=scheduling.sessions_run_by(db.session, current_user),
        now=clock.now(),
    )


def _choices(form: SessionForm) -> None:
    locale = str(get_locale())
    form.course.choices = [SelectChoice("", _("— nessun corso (incontro a sé stante) —"))] + [
        SelectChoice(str(v.course_id), v.title) for v in catalogue(db.session)
    ]
    form.audiences.choices = [
        SelectChoice(a.id, a.name(locale)) for a in list_audiences(db.session)
    ]
    form.trainers.choices = [
        SelectChoice(u.id, u.full_name) for u in scheduling.trainer_choices(db.session)
    ]


def _local_or_none(value: dt.datetime | None, time_zone: str) -> dt.datetime | None:
    return scheduling.from_local(value, time_zone) if value else None


def _data(form: SessionForm) -> scheduling.SessionData:
    tz = form.time_zone.data.strip()
    return scheduling.SessionData(
        title=form.title.data,
        description=form.description.data or "",
        course_id=int(form.course.data) if form.course.data else None,
        required=form.required.data,
        starts_at=scheduling.from_local(dt.datetime.combine(form.day.data, form.start.data), tz),
        time_zone=tz,
        duration_minutes=form.duration_minutes.data,
        place=form.place.data or "",
        online_url=form.online_url.data,
        capacity=form.capacity.data,
        waiting_list=form.waiting_list.data,
        all_audiences=form.all_audiences.data,
        audience_ids=list(form.audiences.data or []),
        trainer_ids=list(form.trainers.data or []),
        hours=Decimal(form.hours.data),
        credits=form.credits.data,
        registration_opens_at=_local_or_none(form.registration_opens_at.data, tz),
        registration_closes_at=_local_or_none(form.registration_closes_at.data, tz),
        cancellation_deadline=_local_or_none(form.cancellation_deadline.data, tz),
    )


def _fill(form: SessionForm, live: LiveSession) -> None:
    def naive(moment: dt.datetime | None) -> dt.datetime | None:
        return scheduling.local(moment, live.time_zone).replace(tzinfo=None) if moment else None

    start = naive(live.starts_at)
    assert start is not None
    form.title.data, form.description.data = live.title, live.description
    form.course.data = str(live.course_id) if live.course_id else ""
    form.required.data, form.time_zone.data = live.required, live.time_zone
    form.day.data, form.start.data = start.date(), start.time()
    form.duration_minutes.data, form.place.data = live.duration_minutes, live.place
    form.online_url.data, form.capacity.data = live.online_url, live.capacity
    form.waiting_list.data, form.all_audiences.data = live.waiting_list, live.all_audiences
    form.audiences.data = [a.id for a in live.audiences]
    form.trainers.data = [t.id for t in live.trainers]
    form.hours.data, form.credits.data = live.hours, live.credits
    form.registration_opens_at.data = naive(live.registration_opens_at)
    form.registration_closes_at.data = naive(live.registration_closes_at)
    form.cancellation_deadline.data = naive(live.cancellation_deadline)


@bp.route("/manage/new", methods=["GET", "POST"])
@roles_required(Role.TRAINER)
def new_session() -> Any:
    form = SessionForm()
    _choices(form)
    if not form.is_submitted() and current_user.has_role(Role.TRAINER):
        form.trainers.data = [current_user.id]
    if form.validate_on_submit():
        user = current_person()
        try:
            live = scheduling.create_session(db.session, _data(form), actor=user)
            db.session.commit()
        except ServiceError as error:
            db.session.rollback()
            for problem in error.details or [str(error)]:
                flash(problem, "error")
        else:
            flash(_("Incontro programmato."), "success")
            return redirect(url_for("live_sessions.roster", session_id=live.id))
    return render_template("live_sessions/form.html", form=form, live=None)


@bp.route("/<id:session_id>/edit", methods=["GET", "POST"])
@roles_required(Role.TRAINER)
def edit_session(session_id: int) -> Any:
    live = _managed(session_id)
    form = SessionForm()
    _choices(form)
    if not form.is_submitted():
        _fill(form, live)
    elif form.validate_on_submit():
        user = current_person()
        try:
            data = _data(form)
            _live, promoted = commit_with_retries(
                lambda: scheduling.update_session(db.session, session_id, data, actor=user)
            )
        except ServiceError as error:
            db.session.rollback()
            for problem in error.details or [str(error)]:
                flash(problem, "error")
        else:
            for item in promoted:
                reminders.notify_promoted(item)
            flash(_("Incontro aggiornato."), "success")
            return redirect(url_for("live_sessions.roster", session_id=session_id))
    return render_template("live_sessions/form.html", form=form, live=live)


@bp.route("/<id:session_id>/cancel-session", methods=["GET", "POST"])
@roles_required(Role.TRAINER)
def cancel_session(session_id: int) -> Any:
    """GET: what cancelling means (who is told), and the button; POST: cancel."""
    form = ActionForm()
    live = _managed(session_id)
    if request.method == "GET":
        if live.is_cancelled:
            return redirect(url_for("live_sessions.roster", session_id=session_id))
        return render_template("live_sessions/cancel_session.html", live=live, form=form)
    if not form.validate_on_submit():
        abort(400)
    user = current_person()
    try:
        live = commit_with_retries(
            lambda: scheduling.cancel_session(db.session, session_id, actor=user)
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        count = reminders.notify_session_cancelled(db.session, live)
        flash(
            ngettext(
                "Incontro annullato: %(num)d persona avvisata.",
                "Incontro annullato: %(num)d persone avvisate.",
                count,
            ),
            "success",
        )
    return redirect(url_for("live_sessions.roster", session_id=session_id))


def _rows(live: LiveSession) -> list[rosters.RosterRow]:
    registrations = registration.roster(db.session, live.id)
    organisations = registration.organisation_names(db.session, [r.user_id for r in registrations])
    marks = attendance.attendance_by_user(db.session, live.id)
    return [
        rosters.RosterRow(r, organisations.get(r.user_id, ""), marks.get(r.user_id))
        for r in registrations
    ]


@bp.route("/<id:session_id>/roster")
@roles_required(Role.TRAINER)
def roster(session_id: int) -> Any:
    live = _managed(session_id)
    rows = _rows(live)
    form = AttendanceForm()
    confirmed = [row for row in rows if not row.waiting]
    for row in confirmed:
        mark = row.attendance
        form.rows.append_entry(
            SimpleNamespace(
                user_id=row.registration.user_id,
                status=mark.status if mark else None,
                minutes=mark.minutes if mark else None,
            )
        )
    return render_template(
        "live_sessions/roster.html",
        live=live,
        rows=rows,
        form=form,
        entries=list(zip(confirmed, form.rows, strict=True)),
        waiting=[row for row in rows if row.waiting],
        marking_open=attendance.marking_open(live, clock.now()),
        not_started=attendance.not_started_message(live),
        history=attendance.history(db.session, live.id),
        action_form=ActionForm(),
        hours_attended=attendance.hours_attended,
    )


@bp.route("/<id:session_id>/attendance", methods=["POST"])
@roles_required(Role.TRAINER)
def mark_attendance(session_id: int) -> Any:
    _managed(session_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        flash(_("Controlla i valori inseriti (i minuti sono un numero intero)."), "error")
        return redirect(url_for("live_sessions.roster", session_id=session_id))
    marks = [
        attendance.Mark(
            int(entry.user_id.data),
            AttendanceStatus(entry.status.data),
            entry.minutes.data if entry.status.data == AttendanceStatus.PARTIAL else None,
        )
        for entry in form.rows
        if entry.status.data and str(entry.user_id.data).isdigit()
    ]
    try:
        changed = attendance.record_marks(db.session, session_id, marks, actor=current_person())
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        for problem in error.details or [str(error)]:
            flash(problem, "error")
    else:
        flash(_("Presenze salvate (%(n)d modifiche).", n=changed), "success")
    return redirect(url_for("live_sessions.roster", session_id=session_id))


@bp.route("/<id:session_id>/attendance/import", methods=["GET", "POST"])
@roles_required(Role.TRAINER)
@body_limit(attendance_import.MAX_BYTES)
def import_attendance(session_id: int) -> Any:
    live = _managed(session_id)
    form = ImportForm()
    issues: list[Any] = []
    if form.validate_on_submit():
        upload = form.sheet.data
        data = upload.read(attendance_import.MAX_BYTES + 1)
        try:
            read, changed = attendance_import.import_sheet(
                db.session,
                session_id,
                data,
                upload.filename or "foglio.csv",
                actor=current_person(),
            )
            db.session.commit()
        except FormatError as error:
            db.session.rollback()
            issues = error.issues
            flash(_("Il foglio non è stato importato: correggi le righe indicate."), "error")
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(
                _("Foglio importato: %(read)d righe, %(n)d modifiche.", read=read, n=changed),
                "success",
            )
            return redirect(url_for("live_sessions.roster", session_id=session_id))
    return render_template("live_sessions/import.html", live=live, form=form, issues=issues)


@bp.route("/<id:session_id>/sign-in.pdf")
@roles_required(Role.TRAINER)
def sign_in_sheet(session_id: int) -> Any:
    live = _managed(session_id)
    data = rosters.sign_in_pdf(
        live,
        _rows(live),
        font=rosters.font_path(current_app.instance_path),
        heading=HEADING,
        locale=str(get_locale()),
    )
    return attachment(data, f"foglio-firme-{live.id}.pdf", "application/pdf", inline=True)


def _csv(text: str, filename: str) -> Response:
    return attachment("\ufeff" + text, filename, "text/csv")


@bp.route("/<id:session_id>/roster.csv")
@roles_required(Role.TRAINER)
def roster_csv(session_id: int) -> Any:
    live = _managed(session_id)
    return _csv(rosters.roster_csv(live, _rows(live)), f"incontro-{live.id}-iscrizioni.csv")


@bp.route("/<id:session_id>/sign-in-template.csv")
@roles_required(Role.TRAINER)
def sheet_template(session_id: int) -> Any:
    live = _managed(session_id)
    return _csv(rosters.sheet_template_csv(_rows(live)), f"incontro-{live.id}-foglio-firme.csv")
