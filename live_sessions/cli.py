"""``lms live_sessions ...``: reminders (for cron), sign-in sheet import, upcoming list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext

from lms import db


@click.group("live_sessions")
def group() -> None:
    """Incontri in presenza e online."""


@group.command("remind")
@click.option(
    "--now",
    "now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
    help="Come se fosse questo momento (UTC), per prove.",
)
@with_appcontext
def remind(now: dt.datetime | None) -> None:
    """Send the reminder e-mail for sessions held tomorrow (once per registration).

    A reminder that cannot be sent is logged and tried again by the next run; the
    others go out all the same, and the exit code is 1 if any failed.
    """
    from live_sessions.reminders import send_reminders

    moment = now.replace(tzinfo=dt.UTC) if now else None
    report = send_reminders(db.session, now=moment)
    click.echo(f"Promemoria inviati: {report.sent}; non inviati per errore: {report.failed}.")
    if report.failed:
        raise SystemExit(1)


@group.command("import-attendance")
@click.argument("session_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "by_email", required=True, help="E-mail di chi conduce l'incontro.")
@with_appcontext
def import_attendance(session_id: int, path: Path, by_email: str) -> None:
    """Import a sign-in sheet CSV (email, presenza, minuti): all rows or none."""
    from live_sessions.attendance_import import import_sheet
    from lms.accounts.services import get_user_by_email
    from lms.errors import FormatError, ServiceError

    actor = get_user_by_email(db.session, by_email)
    if actor is None:
        raise click.ClickException(f"Nessun account con l'indirizzo {by_email}.")
    try:
        read, changed = import_sheet(
            db.session, session_id, path.read_bytes(), path.name, actor=actor
        )
    except FormatError as error:
        db.session.rollback()
        for issue in error.issues:
            click.echo(str(issue), err=True)
        raise click.ClickException("Foglio non importato.") from error
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Righe lette: {read}; modifiche: {changed}.")


@group.command("list")
@with_appcontext
def list_command() -> None:
    """Upcoming sessions with their seats."""
    from live_sessions.scheduling import local, upcoming
    from lms.text import visible

    for live in upcoming(db.session):
        start = local(live.starts_at, live.time_zone)
        click.echo(
            f"{live.id:>5}  {start:%Y-%m-%d %H:%M}  {live.confirmed_count}/{live.capacity}  "
            f"{visible(live.title)}"  # a title saved before titles were checked
        )
