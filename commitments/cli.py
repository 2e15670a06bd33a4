"""``lms commitments ...``: import definitions, list them, send the monthly digest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from commitments.config import setting
from commitments.manage import definitions
from commitments.rules.status import Moment
from lms import db
from lms.errors import FormatError


@click.group("commitments", help="Impegni formativi: importazione, elenco, promemoria.")
def group() -> None:
    pass


@group.command("rebuild-standings")
@with_appcontext
def rebuild_standings_command() -> None:
    """Recompute every stored standing from enrolments, progress and completions."""
    from commitments import standing

    written = standing.rebuild(db.session)
    db.session.commit()
    click.echo(f"Situazioni degli impegni ricalcolate: {written}.")


@group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keep-existing", is_flag=True, help="Non modificare gli impegni già presenti.")
@with_appcontext
def import_command(path: Path, keep_existing: bool) -> None:
    """Create or update commitments from a YAML file: all or nothing."""
    try:
        outcomes = definitions.import_yaml(
            db.session,
            path.read_text(encoding="utf-8-sig"),
            filename=path.name,
            update=not keep_existing,
        )
    except FormatError as error:
        db.session.rollback()
        click.echo(
            f"Importazione annullata: {len(error.issues)} errori, nessuna modifica.", err=True
        )
        for issue in error.issues:
            click.echo(f"  {issue}", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    labels = {
        "created": "creato",
        "updated": "aggiornato",
        "unchanged": "invariato",
        "kept": "già presente, lasciato com'è",
    }
    for outcome in outcomes:
        click.echo(f"{outcome.code}: {labels[outcome.state]}")


@group.command("list")
@with_appcontext
def list_command() -> None:
    """The commitments, with scope, courses, target and deadline."""
    for c in definitions.list_all(db.session):
        scope = c.organisation.code if c.organisation else (c.organisation_type or "rete")
        courses = ", ".join(link.course.slug + ("" if link.required else "*") for link in c.courses)
        choose = f" ({c.choose_count} tra quelli con *)" if c.choose_count else ""
        state = "" if c.active else " [disattivato]"
        words = {"hours": "ore", "credits": "crediti"}
        amounts = "".join(f"; {words[kind]} {value.normalize():f}" for kind, value in c.amounts)
        click.echo(
            f"{c.code}{state}: {scope}; profili {', '.join(a.code for a in c.audiences)}; "
            f"corsi {courses or '—'}{choose}{amounts}; "
            f"obiettivo {c.target_percent}% entro {c.deadline}"
        )


@group.command("digest")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Situazione al.")
@click.option("--force", is_flag=True, help="Invia anche se già inviato questo mese.")
@click.option("--dry-run", is_flag=True, help="Conta soltanto, senza inviare.")
@with_appcontext
def digest_command(on: dt.datetime | None, force: bool, dry_run: bool) -> None:
    """Monthly e-mail to referents: who is overdue, expired or expiring (for cron)."""
    from commitments.reporting.reminders import send_digests

    base = current_app.config["LMS_BASE_URL"].rstrip("/")

    def link(org_id: int) -> str:
        with current_app.test_request_context():
            return base + url_for("commitments.dashboard", org_id=org_id)

    moment = Moment.end_of(on.date()) if on else Moment.now()
    report = send_digests(
        db.session,
        dashboard_link=link,
        moment=moment,
        expiring_days=setting("EXPIRING_DAYS"),
        force=force,
        dry_run=dry_run,
    )
    db.session.commit()
    verb = "da inviare" if dry_run else "inviati"
    organisations = "organizzazione" if report.organisations == 1 else "organizzazioni"
    click.echo(
        f"Promemoria {verb}: {report.messages} a referenti di {report.organisations} "
        f"{organisations}; già inviati questo mese: {report.skipped}; "
        f"non inviati per errore: {report.failed}."
    )
    if report.failed:  # each failure is in the log
        raise SystemExit(1)
