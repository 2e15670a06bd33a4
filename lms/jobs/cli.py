"""``lms worker`` runs the jobs; ``lms jobs ...`` looks at them."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lms import clock, db


@click.command("worker")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Job alla volta.")
@click.option(
    "--no-periodic", is_flag=True, help="Non programmare i lavori periodici (un altro lo fa)."
)
@with_appcontext
def worker(threads: int | None, no_periodic: bool) -> None:
    """Run background jobs and the periodic work until stopped (Ctrl-C or SIGTERM).

    Start one per host, or more: jobs are claimed once whichever worker takes them.
    """
    from lms.jobs import runner

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job_runner = runner(app)
    if app.config["LMS_JOBS_URL"] in ("immediate", "memory://"):
        raise click.ClickException(
            f"LMS_JOBS_URL={app.config['LMS_JOBS_URL']}: i job girano nel processo web, "
            "nessun worker da avviare."
        )
    again = job_runner.sweep(starting=True)
    click.echo(f"Worker avviato; attività riprese: {len(again)}.")
    consumer = job_runner.huey.create_consumer(
        workers=threads or int(app.config["LMS_WORKER_THREADS"]),
        worker_type="thread",
        periodic=not no_periodic,
        check_worker_health=True,
        # An idle worker asks the queue at most every second (Huey's default backs off
        # to 10 s): an invitation or a reset link should not wait longer than that.
        initial_delay=0.1,
        backoff=1.15,
        max_delay=1.0,
    )
    consumer.run()


@click.group("jobs")
def jobs_group() -> None:
    """Attività in background."""


@jobs_group.command("list")
@click.option("--failed", is_flag=True, help="Solo quelle non riuscite o da ripetere.")
@with_appcontext
def list_command(failed: bool) -> None:
    from lms.jobs import services

    for job in reversed(services.recent(db.session, failed_only=failed)):
        progress = f"{job.done}/{job.total}" if job.total else ""
        click.echo(
            f"{job.id:>6} {job.kind:32} {job.status:9} {progress:>11} "
            f"{job.created_at:%Y-%m-%d %H:%M} {job.message or job.error or ''}"
        )


@jobs_group.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Dispatch again jobs left behind (a worker that died); the worker does it every minute."""
    from lms.jobs import runner

    ids = runner().sweep()
    click.echo(f"Attività riprese: {len(ids)}.")


@jobs_group.command("schedule")
@with_appcontext
def schedule_command() -> None:
    """Create this minute's periodic jobs now (what the worker does every minute)."""
    from lms.jobs import runner

    ids = runner().schedule(clock.now())
    click.echo(f"Attività periodiche create: {len(ids)}.")
