"""``lms notifications send``: deadlines scanned, then the outbox delivered (cron or loop)."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from types import FrameType

import click
from flask.cli import with_appcontext

from lms import clock, db


@click.group("notifications")
def group() -> None:
    """Notifiche: scadenze e invio delle e-mail."""


def run_once(now: dt.datetime | None = None) -> tuple[int, int, int]:
    """One pass: (deadline notifications written, e-mail sent, e-mail failed)."""
    from notifications.deadlines import scan
    from notifications.services import deliver

    moment = now or clock.now()
    written = scan(db.session, moment)
    report = deliver(db.session, now=moment)
    return written, report.sent, report.failed


@group.command("send")
@click.option(
    "--now",
    "now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d"]),
    help="Come se fosse questo momento (UTC), per prove.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=None,
    help="Ripeti ogni N secondi finché non viene fermato (SIGTERM o Ctrl-C).",
)
@with_appcontext
def send(now: dt.datetime | None, every: int | None) -> None:
    """Write the commitment deadline notifications and send every pending e-mail.

    Nothing is mailed while a request is answered: this command delivers what the
    platform wrote. Safe to run twice (each message goes once); a message that cannot be
    sent stays pending and is tried again by the next run, and the exit code is 1.
    """
    moment = now.replace(tzinfo=dt.UTC) if now else None
    if every is None:
        written, sent, failed = run_once(moment)
        click.echo(
            f"Scadenze notificate: {written}; e-mail inviate: {sent}; non inviate: {failed}."
        )
        if failed:
            raise SystemExit(1)
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop.is_set():
            try:
                written, sent, failed = run_once(moment)
            except Exception:  # noqa: BLE001 - the loop outlives a bad pass (database down)
                import logging

                logging.getLogger(__name__).exception("notifications pass failed")
                db.session.rollback()
            else:
                if written or sent or failed:
                    click.echo(f"Scadenze: {written}; inviate: {sent}; non inviate: {failed}.")
            db.session.remove()
            stop.wait(every)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("Invio delle notifiche fermato.")
