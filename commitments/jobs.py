"""Commitments' background work: the staff import and "enrol all" as jobs, the monthly
digest as periodic work. Each job commits its work in slices, each slice with the
checkpoint that lets a resumed attempt skip it (lms/jobs: exactly once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Mapping

from flask import Flask, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from commitments.config import setting
from commitments.rules.status import Moment
from commitments.staff import importing
from commitments.staff.importing import Action, RawRow
from lms import jobs
from lms.accounts.mailing import queue_invitations
from lms.accounts.models import User
from lms.errors import ServiceError
from lms.i18n import lazy_gettext as _l
from lms.organisations.services import get_organisation
from lms.plugins import registry

STAFF_IMPORT = "commitments.staff_import"
ENROL_ALL = "commitments.enrol_all"
EXPORT = "commitments.export"
IMPORT_SLICE = 500  # rows per transaction: a slice holds SQLite's write lock well under 1 s
ENROL_SLICE = 500  # people per transaction of "enrol all"


def ask_staff_import(
    session: Session, organisation_id: int, rows: list[RawRow], *, actor: User
) -> jobs.Job:
    """The confirmed import as a job; the same confirmation sent twice makes one job."""
    payload = [[r.number, r.email, r.full_name, r.audience, r.unit] for r in rows]
    digest = hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:32]
    return jobs.enqueue(
        session,
        STAFF_IMPORT,
        {"organisation_id": organisation_id, "rows": payload, "inviter": actor.full_name},
        owner_id=actor.id,
        organisation_id=organisation_id,
        key=f"{STAFF_IMPORT}:{organisation_id}:{actor.id}:{digest}",
    )


def run_staff_import(ctx: jobs.JobContext) -> str:
    session = ctx.session
    organisation = get_organisation(session, ctx.params["organisation_id"])
    rows = [importing.row_from_list(values) for values in ctx.params["rows"]]
    actor = session.get(User, ctx.owner_id) if ctx.owner_id else None
    if "counts" not in ctx.checkpoint:  # first attempt: the whole file must still be valid
        plan = importing.plan_import(session, organisation, rows)
        if not plan.ok:
            raise ServiceError(
                _("Il file non è più applicabile: caricalo di nuovo per vedere perché.")
            )
        counts = {action.value: n for action, n in plan.counts.items()}
        ctx.progress(0, len(rows), checkpoint={"at": 0, "counts": counts})
    start = int(ctx.checkpoint["at"])
    for at in range(start, len(rows), IMPORT_SLICE):
        result = importing.apply_import(
            session, organisation, rows[at : at + IMPORT_SLICE], actor=actor
        )
        # One job sends the slice's invitations, after this slice commits.
        queue_invitations(session, result.invited_ids, organisation.name, ctx.params["inviter"])
        done = min(at + IMPORT_SLICE, len(rows))
        ctx.progress(done, len(rows), checkpoint={**ctx.checkpoint, "at": done})
    counts = {action: ctx.checkpoint["counts"].get(action.value, 0) for action in Action}
    ctx.checkpoint["result"] = {
        "next_url": url_for("commitments.dashboard", org_id=organisation.id),
        "next_label": _("Vai al cruscotto"),
    }
    return import_summary(counts)


def import_summary(counts: Mapping[Action, int]) -> str:
    """What an import did, each count with its own plural form ("1 profilo aggiornato")."""
    parts = [
        ngettext(
            "%(num)d nuovo account invitato", "%(num)d nuovi account invitati", counts[Action.NEW]
        ),
        ngettext("%(num)d persona aggiunta", "%(num)d persone aggiunte", counts[Action.ADD]),
        ngettext(
            "%(num)d persona di nuovo attiva",
            "%(num)d persone di nuovo attive",
            counts[Action.REACTIVATE],
        ),
        ngettext(
            "%(num)d profilo aggiornato", "%(num)d profili aggiornati", counts[Action.AUDIENCE]
        ),
        ngettext(
            "%(num)d persona senza modifiche",
            "%(num)d persone senza modifiche",
            counts[Action.UNCHANGED],
        ),
    ]
    moved = counts.get(Action.UNIT, 0)
    if moved:  # only files with a unit column move anyone
        parts.insert(
            -1,
            ngettext(
                "%(num)d persona spostata di unità", "%(num)d persone spostate di unità", moved
            ),
        )
    return _("Importazione completata: %(parts)s.", parts=", ".join(parts))


def ask_enrol_all(session: Session, organisation_id: int, *, actor: User) -> jobs.Job:
    return jobs.enqueue(
        session,
        ENROL_ALL,
        {"organisation_id": organisation_id},
        owner_id=actor.id,
        organisation_id=organisation_id,
    )


def run_enrol_all(ctx: jobs.JobContext) -> str:
    from flask_babel import ngettext

    from commitments.staff import enrolment

    session = ctx.session
    organisation_id = ctx.params["organisation_id"]
    actor = session.get(User, ctx.owner_id) if ctx.owner_id else None
    if actor is None:
        raise ServiceError(_("L'account che ha chiesto le iscrizioni non esiste più."))
    found = enrolment.organisation_plan(
        session, organisation_id, Moment.now(), expiring_days=setting("EXPIRING_DAYS")
    )
    if "people" not in ctx.checkpoint:  # first attempt: the plan as the referent saw it
        ctx.progress(
            0, found.plan.people, checkpoint={"people": found.plan.people, "created": 0, "done": 0}
        )
    total, created, done = (ctx.checkpoint[k] for k in ("people", "created", "done"))
    # Slices of people (all their courses together): each person's standing is
    # recomputed once, and a resumed job plans again without those already enrolled.
    for one in found.plan.slices(ENROL_SLICE):
        created += enrolment.enrol_all(session, organisation_id, one, found.slugs, by=actor)
        done += one.people
        ctx.progress(
            min(done, total), total, checkpoint={"people": total, "created": created, "done": done}
        )
    ctx.checkpoint["result"] = {
        "next_url": url_for("commitments.dashboard", org_id=organisation_id),
        "next_label": _("Vai al cruscotto"),
    }
    return ngettext("%(num)d iscrizione creata.", "%(num)d iscrizioni create.", created)


def staff_count(
    session: Session, organisation_id: int, unit_ids: Collection[int] | None = None
) -> int:
    from sqlalchemy import func, select

    from lms.organisations.models import Membership

    stmt = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.organisation_id == organisation_id, Membership.ended_at.is_(None))
    )
    if unit_ids is not None:
        stmt = stmt.where(Membership.unit_id.in_(sorted(unit_ids)))
    return int(session.scalar(stmt) or 0)


def ask_export(
    session: Session,
    organisation_id: int,
    kind: str,
    *,
    on: dt.date | None,
    actor: User,
    locale: str,
    unit_ids: Collection[int] | None = None,
) -> jobs.Job:
    """A staff matrix export (CSV or XLSX) written by a worker, for large organisations;
    of the people in ``unit_ids`` only when given (the scope the reader had when asking)."""
    return jobs.enqueue(
        session,
        EXPORT,
        {
            "organisation_id": organisation_id,
            "kind": kind,
            "on": on.isoformat() if on else None,
            "locale": locale,
            "unit_ids": None if unit_ids is None else sorted(unit_ids),
        },
        owner_id=actor.id,
        organisation_id=organisation_id,
    )


def run_export(ctx: jobs.JobContext) -> str:
    from commitments.reporting import services

    actor = ctx.session.get(User, ctx.owner_id) if ctx.owner_id else None
    if actor is None:
        raise ServiceError(_("L'account che ha chiesto l'esportazione non esiste più."))
    on = ctx.params.get("on")
    moment = Moment.end_of(dt.date.fromisoformat(on)) if on else Moment.now()
    ctx.progress(0, 1)
    found = services.matrix_file(
        ctx.session,
        ctx.params["organisation_id"],
        moment,
        ctx.params["kind"],
        actor=actor,
        locale=ctx.params["locale"],
        expiring_days=setting("EXPIRING_DAYS"),
        unit_ids=None if ctx.params.get("unit_ids") is None else frozenset(ctx.params["unit_ids"]),
    )
    (ctx.files_dir() / found.filename).write_bytes(found.data)
    ctx.checkpoint["result"] = {
        "file": found.filename,
        "download_name": found.filename,
        "mimetype": found.mimetype,
        "next_url": url_for("commitments.dashboard", org_id=ctx.params["organisation_id"]),
        "next_label": _("Torna al cruscotto"),
    }
    return _("Esportazione pronta: %(name)s.", name=found.filename)


def run_digest(session: Session, now: dt.datetime) -> str:
    from commitments.reporting.reminders import send_digests

    def link(org_id: int) -> str:
        return jobs_absolute(url_for("commitments.dashboard", org_id=org_id))

    report = send_digests(
        session,
        dashboard_link=link,
        moment=Moment.now(),
        expiring_days=setting("EXPIRING_DAYS"),
        force=False,
        dry_run=False,
    )
    session.commit()
    return f"digest: {report.messages} messages, {report.skipped} already sent"


def jobs_absolute(path: str) -> str:
    from flask import current_app

    return current_app.config["LMS_BASE_URL"].rstrip("/") + path


def install(app: Flask) -> None:
    kinds = registry(jobs.JOB_KINDS, app)
    kinds.add(
        STAFF_IMPORT, jobs.JobKind(STAFF_IMPORT, run_staff_import, _l("Importazione del personale"))
    )
    kinds.add(
        ENROL_ALL, jobs.JobKind(ENROL_ALL, run_enrol_all, _l("Iscrizione ai corsi richiesti"))
    )
    kinds.add(
        EXPORT,
        jobs.JobKind(EXPORT, run_export, _l("Esportazione del personale"), reads_mostly=True),
    )
    # Every day at 8: the digest itself goes once a month per organisation.
    registry(jobs.SCHEDULED, app).add(
        "commitments.digest",
        jobs.Scheduled("commitments.digest", jobs.crontab(minute="0", hour="8"), run_digest),
    )
