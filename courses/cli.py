"""``lms courses ...``: import, export, list."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from courses import authoring, packaging
from lms import db
from lms.errors import FormatError, FormatIssue, ServiceError


@click.group("courses", help="Corsi: importazione, esportazione, elenco.")
def courses_cli() -> None:
    pass


def course_folders(path: Path) -> list[Path]:
    """A course folder, or a folder of course folders (e.g. ``content/``)."""
    if (path / "course.md").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if (p / "course.md").is_file())


def import_path(path: Path, *, publish: bool) -> list[authoring.ImportResult]:
    """Import every course under ``path`` in one transaction, prerequisites first."""
    db.begin_writing()  # a worker's write must not make the import fail half-way
    pending = {folder: packaging.read_folder(folder) for folder in course_folders(path)}
    results: list[authoring.ImportResult] = []
    # Courses whose prerequisites are not imported yet wait for the next round.
    while pending:
        progressed = False
        errors: list[FormatError] = []
        for folder, files in list(pending.items()):
            try:
                with db.session.begin_nested():
                    results.append(
                        authoring.import_files(db.session, files, user=None, publish=publish)
                    )
            except FormatError as error:
                prefix = "" if folder == path else f"{folder.name}/"
                errors.append(
                    FormatError(
                        [
                            FormatIssue(prefix + issue.file, issue.line, issue.message)
                            for issue in error.issues
                        ]
                    )
                )
                continue
            del pending[folder]
            progressed = True
        if not progressed:
            raise FormatError([issue for error in errors for issue in error.issues])
    return results


@courses_cli.command("import")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--publish", is_flag=True, help="Pubblica subito la nuova versione.")
@with_appcontext
def import_command(path: Path, publish: bool) -> None:
    """Import a course folder (or a folder of courses): all or nothing."""
    started = time.perf_counter()
    try:
        results = import_path(path, publish=publish)
    except FormatError as error:
        db.session.rollback()
        click.echo(
            f"Importazione annullata: {len(error.issues)} errori, nessuna modifica.", err=True
        )
        for issue in error.issues:
            click.echo(f"  {issue}", err=True)
        raise SystemExit(1) from error
    db.session.commit()
    for result in results:
        state = (
            "invariato"
            if result.unchanged
            else f"pubblicata la versione {result.version.number}"
            if result.published
            else "bozza salvata"
        )
        click.echo(f"{result.course.slug}: {state}")
    click.echo(f"{len(results)} corsi in {time.perf_counter() - started:.2f} s")


@courses_cli.command("import-packs")
@click.option("--publish", is_flag=True, help="Pubblica subito le nuove versioni.")
@with_appcontext
def import_packs_command(publish: bool) -> None:
    """Import the course packs of installed packages (entry points ``lms.course_packs``)."""
    from courses.packs import discover_packs

    packs = discover_packs()
    if not packs:
        click.echo("Nessun pacchetto di corsi installato.")
        return
    try:
        for name, folder in packs.items():
            results = import_path(folder, publish=publish)
            click.echo(f"{name}: {', '.join(r.course.slug for r in results)}")
    except FormatError as error:
        db.session.rollback()
        for issue in error.issues:
            click.echo(f"  {issue}", err=True)
        raise SystemExit(1) from error
    db.session.commit()


@courses_cli.command("export")
@click.argument("slug")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Esporta la bozza invece della versione pubblicata.")
@with_appcontext
def export_command(slug: str, path: Path, draft: bool) -> None:
    """Write a course's published version (or draft) as a folder."""
    try:
        course = authoring.get_course(db.session, slug)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    version = (
        authoring.get_draft(db.session, course.id)
        if draft
        else authoring.latest_published(db.session, course.id)
    )
    if version is None:
        raise click.ClickException("Nessuna versione da esportare.")
    packaging.write_folder(packaging.version_files(version), path)
    click.echo(f"Esportato {slug} in {path}")


@courses_cli.command("list")
@with_appcontext
def list_command() -> None:
    from courses.catalogue import catalogue
    from lms.text import visible

    for version in catalogue(db.session):
        click.echo(
            f"{version.course.slug:45} v{version.number} "
            f"{len(version.modules)} moduli  {visible(version.title)}"
        )
