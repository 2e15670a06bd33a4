"""Command line: ``lms ...`` (console script) or ``flask --app wsgi lms ...``."""

from __future__ import annotations

import datetime as dt
import getpass
import time
from collections.abc import Iterable
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms import db
from lms.accounts.models import Role
from lms.jobs.cli import jobs_group, worker
from lms.plugins import Plugin

DEMO_PASSWORD = "Milano-demo-2026"


def build_cli(plugins: Iterable[Plugin]) -> click.Group:
    """The ``lms`` command group of one app, with each plugin's group mounted."""

    @click.group("lms", help="Piattaforma di formazione della Rete antiviolenza di Milano.")
    def group() -> None:
        pass

    for command in (
        init_db,
        secret_key,
        seed_organisations,
        create_user,
        demo,
        prune,
        db_group,
        retention,
        backup_command,
        restore_command,
        worker,
        jobs_group,
    ):
        group.add_command(command)
    for plugin in plugins:
        plugin_group = plugin.cli()
        if plugin_group is not None:
            group.add_command(plugin_group, plugin.name)
    return group


@click.command("secret-key")
def secret_key() -> None:
    """Print a new random value for LMS_SECRET_KEY (the same on every host)."""
    from lms.config import new_secret_key

    click.echo(new_secret_key())


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from lms.migrate import upgrade

    upgrade(current_app)
    for plugin in current_app.extensions["lms"].plugins:
        for line in plugin.after_upgrade(db.session):
            click.echo(line)
        db.session.commit()
    click.echo("Database aggiornato.")


@click.group("db")
def db_group() -> None:
    """Migrations: upgrade, revision, current."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    from lms.migrate import upgrade

    upgrade(current_app, revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
@with_appcontext
def db_revision(message: str, autogenerate: bool) -> None:
    from alembic import command

    from lms.migrate import alembic_config

    command.revision(alembic_config(current_app), message=message, autogenerate=autogenerate)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    from lms.migrate import current_heads

    click.echo(", ".join(sorted(current_heads(current_app))) or "(vuoto)")


@click.command("seed-organisations")
@with_appcontext
def seed_organisations() -> None:
    """Load or update the protocol's signatory organisations and the audiences."""
    from lms.organisations.services import seed_registry

    report = seed_registry(db.session)
    db.session.commit()
    click.echo(
        f"Profili creati: {report.audiences_created}; organizzazioni create: "
        f"{report.organisations_created}, aggiornate: {report.organisations_updated}."
    )


@click.command("create-user")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="Nome e cognome.")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--organisation", "org_code", help="Codice dell'organizzazione.")
@click.option("--audience", "audience_code", help="Codice del profilo professionale.")
@click.option("--referent", is_flag=True, help="Referente dell'organizzazione.")
@click.option("--password", help="Se omessa viene chiesta (oppure letta da LMS_NEW_PASSWORD).")
@with_appcontext
def create_user(
    email: str,
    full_name: str,
    roles: tuple[str, ...],
    org_code: str | None,
    audience_code: str | None,
    referent: bool,
    password: str | None,
) -> None:
    """Create an account, optionally with roles and a membership."""
    import os

    from lms.accounts.services import create_user as create
    from lms.errors import ServiceError
    from lms.organisations.services import add_member, organisation_by_code

    password = password or os.environ.get("LMS_NEW_PASSWORD") or getpass.getpass("Password: ")
    try:
        user = create(
            db.session, email, full_name, password=password, roles=tuple(Role(r) for r in roles)
        )
        if org_code:
            if not audience_code:
                raise click.UsageError("--audience è obbligatorio con --organisation")
            add_member(
                db.session,
                organisation_by_code(db.session, org_code),
                email=user.email,
                full_name=full_name,
                audience_code=audience_code,
                is_referent=referent,
            )
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Creato l'account {user.email} (id {user.id}).")


DEMO_ACCOUNTS = [
    # email, name, roles, organisation code, audience, referent
    ("admin@rete-milano.test", "Amministratrice Demo", (Role.ADMIN,), None, None, False),
    (
        "coordinamento@rete-milano.test",
        "Coordinatrice di Rete",
        (Role.COORDINATOR,),
        "CDM-ADI",
        "amministrazione",
        False,
    ),
    (
        "formatrice@rete-milano.test",
        "Formatrice Demo",
        (Role.TRAINER,),
        "CDM-ADI",
        "amministrazione",
        False,
    ),
    (
        "referente.pl@rete-milano.test",
        "Referente Polizia Locale",
        (),
        "CDM-PL-NTDM",
        "polizia_locale",
        True,
    ),
    (
        "referente.asst@rete-milano.test",
        "Referente ASST Niguarda",
        (),
        "ASST-NIGUARDA",
        "triage_asst",
        True,
    ),
    (
        "referente.cav@rete-milano.test",
        "Referente Casa delle Donne",
        (),
        "CAV-CADMI",
        "operatrici_cav",
        True,
    ),
    ("agente@rete-milano.test", "Agente Demo", (), "CDM-PL-NTDM", "polizia_locale", False),
    (
        "infermiera@rete-milano.test",
        "Infermiera Triage Demo",
        (),
        "ASST-NIGUARDA",
        "triage_asst",
        False,
    ),
    (
        "operatrice@rete-milano.test",
        "Operatrice CAV Demo",
        (),
        "CAV-CADMI",
        "operatrici_cav",
        False,
    ),
    ("cancelleria@rete-milano.test", "Cancelliera Demo", (), "TRIB-ORD", "magistratura", False),
    (
        "sportello@rete-milano.test",
        "Operatrice Sportello Municipio Demo",
        (),
        "MUNICIPIO-5",
        "amministrazione",
        False,
    ),
]


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load organisations, one demo account per role and a demo staff (idempotent), then
    plugin demo data (the staff's training history among them), timed."""
    from lms.accounts.services import create_user as create
    from lms.accounts.services import get_user_by_email
    from lms.demo import load_staff, load_units
    from lms.organisations.services import add_member, organisation_by_code, seed_registry

    started = time.perf_counter()
    seed_registry(db.session)
    rows = []
    for email, name, roles, org_code, audience, referent in DEMO_ACCOUNTS:
        user = get_user_by_email(db.session, email)
        if user is None:
            user = create(db.session, email, name, password=DEMO_PASSWORD, roles=roles)
            if org_code:
                add_member(
                    db.session,
                    organisation_by_code(db.session, org_code),
                    email=email,
                    full_name=name,
                    audience_code=audience,
                    is_referent=referent,
                )
        rows.append(
            (
                email,
                ", ".join(r.value for r in roles)
                or ("referente" if referent else "operatore/operatrice"),
                org_code or "-",
            )
        )
    for line in load_staff(db.session):
        click.echo(line)
    lines, unit_referents = load_units(db.session, DEMO_PASSWORD)
    rows += unit_referents
    for line in lines:
        click.echo(line)
    db.session.commit()
    for plugin in current_app.extensions["lms"].plugins:
        for line in plugin.demo_data(db.session):
            click.echo(line)
        db.session.commit()
    click.echo(f"Dati dimostrativi pronti in {time.perf_counter() - started:.1f} s.")
    click.echo("")
    click.echo(f"Account dimostrativi (password per tutti: {DEMO_PASSWORD}):")
    for email, role, org in rows:
        click.echo(f"  {email:32} {role:24} {org}")


@click.command("prune")
@click.option("--days", default=30, show_default=True)
@with_appcontext
def prune(days: int) -> None:
    """Delete throttle events older than N days, expire unconfirmed registration requests
    and delete old decided ones (for cron)."""
    from lms import clock, throttle
    from lms.registration.services import prune_expired

    removed = throttle.prune(db.session, dt.timedelta(days=days))
    requests = prune_expired(
        db.session,
        clock.now(),
        token_max_age=current_app.config["LMS_REGISTRATION_TOKEN_MAX_AGE"],
    )
    db.session.commit()
    click.echo(
        f"Eventi rimossi: {removed}. Richieste di registrazione scadute o rimosse: {requests}."
    )


@click.command("retention")
@with_appcontext
def retention() -> None:
    """Delete old audit entries; warn, then deactivate, inactive accounts (for cron)."""
    from lms.retention import RetentionPolicy, run_retention

    report = run_retention(db.session, RetentionPolicy.from_config(current_app))
    db.session.commit()
    click.echo(
        f"Voci del registro eliminate: {report.audit_entries_deleted}; "
        f"avvisi inviati: {report.warned}; account disattivati: {report.deactivated}."
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a backup (database + instance keys) to PATH (.tar.gz)."""
    from lms.backup import backup

    manifest = backup(current_app, path)
    click.echo(
        f"Copia di sicurezza scritta in {path}: {sum(manifest['row_counts'].values())} righe."
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Non chiedere conferma.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database and instance keys with the backup in PATH."""
    from lms.backup import BackupError, restore

    if not yes:
        click.confirm("Il database attuale verrà sostituito. Continuare?", abort=True)
    db.session.remove()
    import tarfile

    try:
        manifest = restore(current_app, path)
    except (BackupError, tarfile.TarError, KeyError, OSError) as error:
        message = f"Ripristino non riuscito, nulla è stato modificato: {error}"
        raise click.ClickException(message) from error
    click.echo(f"Ripristinata la copia del {manifest['created_at']}.")
