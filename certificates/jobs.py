"""Certificates' background work: an organisation's ZIP prepared by a worker (then a
download link that expires), and the expiry reminders as daily periodic work."""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from certificates import listing
from certificates.config import expiring_days, external_url, parse_days, renewal_url
from certificates.documents import zip_chunks
from lms import clock, jobs
from lms.accounts.models import User
from lms.i18n import lazy_gettext as _l
from lms.organisations.services import get_organisation
from lms.plugins import registry

ORGANISATION_ZIP = "certificates.organisation_zip"
PROGRESS_EVERY = 50  # PDFs between two progress writes


def ask_organisation_zip(
    session: Session, organisation_id: int, *, key: str | None, status: str, actor: User
) -> jobs.Job:
    """One job per person, filters and minute: a double click makes one archive."""
    minute = clock.now().strftime("%Y%m%d%H%M")
    return jobs.enqueue(
        session,
        ORGANISATION_ZIP,
        {"organisation_id": organisation_id, "key": key, "status": status},
        owner_id=actor.id,
        organisation_id=organisation_id,
        key=f"{ORGANISATION_ZIP}:{organisation_id}:{actor.id}:{key}:{status}:{minute}",
    )


def run_organisation_zip(ctx: jobs.JobContext) -> str:
    """Write the archive to the job's folder (a new attempt starts it again: the file
    is the only effect, renamed into place when complete)."""
    organisation = get_organisation(ctx.session, ctx.params["organisation_id"])
    rows = listing.organisation_certificates(
        ctx.session,
        organisation.id,
        key=ctx.params.get("key"),
        status=ctx.params.get("status") or "current",
        expiring_days=expiring_days(),
    )
    total = len(rows)
    ctx.progress(0, total)

    def on_pdf(number: int) -> None:
        if number % PROGRESS_EVERY == 0:
            ctx.progress(number, total)

    name = f"attestati-{organisation.code}-{clock.today().isoformat()}.zip"
    folder = ctx.files_dir()
    partial = folder / f".{name}.part"
    with partial.open("wb") as handle:
        for chunk in zip_chunks(rows, on_pdf):
            handle.write(chunk)
    os.replace(partial, folder / name)
    ctx.progress(total, total)
    ctx.checkpoint["result"] = {
        "file": name,
        "download_name": name,
        "mimetype": "application/zip",
        "next_url": url_for("certificates.organisation", org_id=organisation.id),
        "next_label": _("Torna agli attestati"),
    }
    return ngettext(
        "Archivio pronto: %(num)d attestato.", "Archivio pronto: %(num)d attestati.", total
    )


def run_reminders(session: Session, now: dt.datetime) -> str:
    from flask import current_app

    from certificates.reminders import send_reminders

    report = send_reminders(
        session,
        parse_days(current_app.config["LMS_CERT_REMINDER_DAYS"]),
        link=external_url("lms.home"),
        renewal_link=renewal_url,
    )
    session.commit()
    return f"reminders {report.reminders}, digests {report.digests}, failed {report.failed}"


def install(app: Flask) -> None:
    registry(jobs.JOB_KINDS, app).add(
        ORGANISATION_ZIP,
        jobs.JobKind(
            ORGANISATION_ZIP,
            run_organisation_zip,
            _l("Archivio ZIP degli attestati"),
            reads_mostly=True,
        ),
    )
    registry(jobs.SCHEDULED, app).add(
        "certificates.remind",
        jobs.Scheduled("certificates.remind", jobs.crontab(minute="0", hour="7"), run_reminders),
    )
