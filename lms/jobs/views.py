"""A job's page (progress, result, error) for the person who asked; all jobs for admins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from lms import db
from lms.accounts.models import Role
from lms.authz import authenticated, roles_required
from lms.i18n import lazy_gettext as _l
from lms.jobs import services
from lms.jobs.models import Job, JobStatus

bp = Blueprint("jobs", __name__, template_folder="templates", static_folder="static")

STATUS_TONES = {
    JobStatus.QUEUED: "secondary",
    JobStatus.RUNNING: "primary",
    JobStatus.RETRYING: "warning",
    JobStatus.DONE: "success",
    JobStatus.FAILED: "danger",
}


def _visible_job(job_id: int) -> Job:
    """The job if the current person asked for it (or is an admin); 404 otherwise,
    so ids of other people's jobs are not confirmed."""
    job = services.get_job(db.session, job_id)
    if job.owner_id != current_user.id and not current_user.is_admin:
        abort(404)
    return job


def status_payload(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "finished": job.state.finished,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
    }


@bp.route("/")
@authenticated
def job_list() -> Any:
    failed_only = request.args.get("failed") == "1"
    if current_user.is_admin:
        jobs = services.recent(db.session, failed_only=failed_only, limit=100)
    else:
        jobs = services.recent(db.session, owner_id=current_user.id, failed_only=failed_only)
    return render_template(
        "jobs/list.html",
        jobs=jobs,
        failed_only=failed_only,
        titles={job.id: services.title(job) for job in jobs},
        tones=STATUS_TONES,
    )


@bp.route("/<id:job_id>")
@authenticated
def job_page(job_id: int) -> Any:
    job = _visible_job(job_id)
    return render_template(
        "jobs/job.html",
        job=job,
        title=services.title(job),
        tones=STATUS_TONES,
        downloadable=_download_path(job) is not None,
        expired=services.file_expired(job),
    )


@bp.route("/<id:job_id>/status.json")
@authenticated
def job_status(job_id: int) -> Any:
    response = jsonify(status_payload(_visible_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _download_path(job: Job) -> Path | None:
    name = (job.result or {}).get("file")
    if job.state is not JobStatus.DONE or not name:
        return None
    path = Path(current_app.config["LMS_JOB_FILES_DIR"]) / str(job.id) / Path(name).name
    return path if path.is_file() else None


@bp.route("/<id:job_id>/download")
@authenticated
def job_download(job_id: int) -> Any:
    job = _visible_job(job_id)
    path = _download_path(job)
    if path is None or services.file_expired(job):
        abort(404)
    return send_file(
        path,
        as_attachment=True,
        download_name=(job.result or {}).get("download_name") or path.name,
        mimetype=(job.result or {}).get("mimetype") or "application/octet-stream",
    )


@bp.route("/<id:job_id>/retry", methods=["POST"])
@roles_required(Role.ADMIN)
def job_retry(job_id: int) -> Any:
    """An admin sends a failed job back to the queue (after fixing its cause)."""
    job = services.get_job(db.session, job_id)
    if job.state is JobStatus.FAILED:
        services.requeue(db.session, job)
        db.session.commit()
        flash(_("Attività rimessa in coda."), "success")
    return redirect(url_for("jobs.job_page", job_id=job_id))


STATUS_LABELS = {
    JobStatus.QUEUED: _l("In coda"),
    JobStatus.RUNNING: _l("In corso"),
    JobStatus.RETRYING: _l("Da ripetere"),
    JobStatus.DONE: _l("Completata"),
    JobStatus.FAILED: _l("Non riuscita"),
}


@bp.app_template_filter("job_status_label")
def job_status_label(status: JobStatus | str) -> str:
    return str(STATUS_LABELS[JobStatus(status)])
