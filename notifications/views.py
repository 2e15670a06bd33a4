"""The person's notifications, their e-mail preferences and the one-click unsubscribe."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms import clock, db
from lms.accounts.models import User
from lms.authz import authenticated, current_person, public
from lms.errors import NotFound
from lms.forms import ActionForm
from notifications import services
from notifications.blueprint import bp
from notifications.forms import OPTIONAL_LABELS, PreferencesForm


@bp.route("/")
@authenticated
def index() -> Any:
    person = current_person()
    return render_template(
        "notifications/index.html",
        notifications=services.my_notifications(db.session, person.id),
        unread=services.unread_count(db.session, person.id),
        form=ActionForm(),
    )


@bp.route("/<id:notification_id>/read", methods=["POST"])
@authenticated
def read(notification_id: int) -> Any:
    """Mark read; with ``open``, go on to what the notification is about."""
    person = current_person()
    if not ActionForm().validate_on_submit():
        abort(400)
    found = services.mark_read(db.session, person.id, notification_id, clock.now())
    db.session.commit()
    if request.form.get("open") and found.link.startswith("/") and not found.link.startswith("//"):
        return redirect(found.link)
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@authenticated
def read_all() -> Any:
    person = current_person()
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_all_read(db.session, person.id, clock.now())
    db.session.commit()
    flash(_("Tutte le notifiche sono segnate come lette."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@authenticated
def preferences() -> Any:
    person = current_person()
    muted = services.muted_kinds(db.session, person.id)
    form = PreferencesForm(data={kind.value: kind not in muted for kind in OPTIONAL_LABELS})
    if form.validate_on_submit():
        now = clock.now()
        for kind in OPTIONAL_LABELS:
            services.set_muted(db.session, person.id, kind, not form[kind.value].data, now)
        db.session.commit()
        flash(_("Preferenze salvate."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form, labels=OPTIONAL_LABELS)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> Any:
    """From an e-mail, without signing in: GET asks (mail scanners follow links), POST does."""
    user_id, kind = services.read_unsubscribe_token(token)
    person = db.session.get(User, user_id)
    if person is None:
        raise NotFound(_("Questo link non è valido."))
    form = ActionForm()
    done = False
    if form.validate_on_submit():
        services.set_muted(db.session, user_id, kind, True, clock.now())
        db.session.commit()
        done = True
    return render_template(
        "notifications/unsubscribe.html",
        form=form,
        label=OPTIONAL_LABELS.get(kind, kind.value),
        done=done,
    )
