"""Trainer pages: upload, edit with live preview, reorder, publish, diff, export."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import escape

from courses import authoring, packaging
from courses.blueprint import bp
from courses.format import MODULE_FILE_RE, fenced_blocks, lesson_limits, split_blocks
from courses.forms import CourseMetaForm, ModuleForm, NewModuleForm, UploadCourseForm
from courses.models import Course
from courses.packaging import MAX_ZIP_BYTES
from courses.rendering import render_markdown
from courses.views import send_asset
from lms import db
from lms.accounts.models import Role
from lms.authz import current_person, roles_required
from lms.downloads import attachment
from lms.errors import FormatError, ServiceError
from lms.forms import ActionForm
from lms.limits import EDITOR, body_limit

author_only = roles_required(Role.TRAINER)

NEW_COURSE_TEMPLATE = """---
slug: nuovo-corso
title: Titolo del corso
summary: Una frase che descrive il corso nel catalogo.
audiences: [all]
objectives:
  - Primo obiettivo di apprendimento
language: it
version: "0.1"
---
Introduzione del corso.
"""
FIRST_MODULE = b"---\ntitle: Introduzione\n---\nTesto del primo modulo.\n"


def _authored(slug: str) -> Course:
    try:
        course = authoring.get_course(db.session, slug)
    except ServiceError:
        abort(404)
    if not authoring.can_author(current_person(), course):
        abort(403)
    return course


def _show_format_errors(error: FormatError) -> None:
    flash(_("Il corso non è stato salvato: correggi questi errori."), "error")
    for issue in error.issues[:50]:
        flash(str(issue), "format")


@bp.route("/author/")
@author_only
def author_index() -> Any:
    return render_template(
        "courses/author/index.html",
        courses=authoring.authored_courses(db.session, current_person()),
        upload_form=UploadCourseForm(),
        drafts=_draft_ids(),
    )


def _draft_ids() -> set[int]:
    from sqlalchemy import select

    from courses.models import CourseVersion, VersionStatus

    return set(
        db.session.scalars(
            select(CourseVersion.course_id).where(CourseVersion.status == VersionStatus.DRAFT)
        )
    )


@bp.route("/author/upload", methods=["POST"])
@author_only
@body_limit(MAX_ZIP_BYTES)
def author_upload() -> Any:
    form = UploadCourseForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("courses.author_index"))
    try:
        files = packaging.read_zip(form.archive.data.read())
        result = authoring.import_files(
            db.session, files, user=current_person(), publish=form.publish.data
        )
    except FormatError as error:
        db.session.rollback()
        _show_format_errors(error)
        return render_template(
            "courses/author/index.html",
            courses=authoring.authored_courses(db.session, current_person()),
            upload_form=form,
            drafts=_draft_ids(),
        ), 422
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("courses.author_index"))
    db.session.commit()
    flash(
        _("Corso «%(slug)s» caricato.", slug=result.course.slug)
        + " "
        + (
            _("Pubblicata la versione %(n)d.", n=result.version.number)
            if result.published
            else _("Nessuna modifica rispetto alla versione pubblicata.")
            if result.unchanged
            else _("Salvato come bozza.")
        ),
        "success",
    )
    return redirect(url_for("courses.author_course", slug=result.course.slug))


@bp.route("/author/new", methods=["GET", "POST"])
@author_only
@body_limit(EDITOR)
def author_new() -> Any:
    form = CourseMetaForm(source=NEW_COURSE_TEMPLATE)
    if form.validate_on_submit():
        files = {
            "course.md": form.source.data.replace("\r\n", "\n").encode(),
            "01-introduzione.md": FIRST_MODULE,
        }
        try:
            result = authoring.import_files(db.session, files, user=current_person(), publish=False)
            if not result.created_course:
                raise ServiceError(_("Esiste già un corso con questo slug."))
        except FormatError as error:
            db.session.rollback()
            _show_format_errors(error)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            return redirect(url_for("courses.author_course", slug=result.course.slug))
    return render_template("courses/author/new.html", form=form)


@bp.route("/author/<slug>/")
@author_only
def author_course(slug: str) -> Any:
    course = _authored(slug)
    draft = authoring.get_draft(db.session, course.id)
    files = packaging.version_files(draft) if draft else {}
    return render_template(
        "courses/author/course.html",
        course=course,
        draft=draft,
        versions=authoring.versions_of(db.session, course.id),
        meta_form=CourseMetaForm(source=files.get("course.md", b"").decode()) if draft else None,
        module_form=NewModuleForm(),
        action_form=ActionForm(),
    )


def _save(course: Course, files: dict[str, bytes], message: str) -> bool:
    try:
        authoring.save_files(db.session, course, files, current_person())
    except FormatError as error:
        db.session.rollback()
        _show_format_errors(error)
        return False
    db.session.commit()
    flash(message, "success")
    return True


@bp.route("/author/<slug>/edit", methods=["POST"])
@author_only
def author_start_draft(slug: str) -> Any:
    course = _authored(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    authoring.edit_draft(db.session, course, current_person())
    db.session.commit()
    return redirect(url_for("courses.author_course", slug=slug))


@bp.route("/author/<slug>/meta", methods=["POST"])
@author_only
@body_limit(EDITOR)
def author_meta(slug: str) -> Any:
    course = _authored(slug)
    form = CourseMetaForm()
    if form.validate_on_submit():
        files = authoring.draft_files(db.session, course, current_person())
        files["course.md"] = form.source.data.replace("\r\n", "\n").encode()
        _save(course, files, _("Bozza salvata."))
    return redirect(url_for("courses.author_course", slug=slug))


def _module_file(files: dict[str, bytes], module_slug: str) -> str:
    for name in files:
        match = MODULE_FILE_RE.match(name)
        if match and match.group(2) == module_slug:
            return name
    abort(404)


@bp.route("/author/<slug>/modules/<module_slug>", methods=["GET", "POST"])
@author_only
@body_limit(EDITOR)
def author_module(slug: str, module_slug: str) -> Any:
    course = _authored(slug)
    form = ModuleForm()
    # Reading shows the draft, or the published version until the first save: a GET
    # never creates a draft.
    shown = authoring.get_draft(db.session, course.id) or authoring.latest_published(
        db.session, course.id
    )
    if shown is None or module_slug not in {m.slug for m in shown.modules}:
        abort(404)
    if form.validate_on_submit():
        files = authoring.draft_files(db.session, course, current_person())
        name = _module_file(files, module_slug)
        minutes = form.estimated_minutes.data
        declared = f"estimated_minutes: {minutes}\n" if minutes is not None else ""
        header = f"---\ntitle: {_yaml_text(form.title.data)}\n{declared}---\n"
        files[name] = (header + form.body.data.replace("\r\n", "\n")).encode()
        if _save(course, files, _("Modulo salvato nella bozza.")):
            return redirect(url_for("courses.author_module", slug=slug, module_slug=module_slug))
        shown = authoring.get_draft(db.session, course.id) or shown
    elif request.method == "GET":
        module = next(m for m in shown.modules if m.slug == module_slug)
        form.title.data = module.title
        form.estimated_minutes.data = module.estimated_minutes or None  # 0: none declared
        form.body.data = module.body_md
    return render_template(
        "courses/author/module.html", course=course, draft=shown, module_slug=module_slug, form=form
    )


def _yaml_text(value: str) -> str:
    import json

    return json.dumps(value.strip(), ensure_ascii=False)  # JSON strings are valid YAML


@bp.route("/author/<slug>/modules/new", methods=["POST"])
@author_only
def author_module_new(slug: str) -> Any:
    course = _authored(slug)
    form = NewModuleForm()
    if not form.validate_on_submit():
        flash(_("Indica slug e titolo del nuovo modulo."), "error")
        return redirect(url_for("courses.author_course", slug=slug))
    files = authoring.draft_files(db.session, course, current_person())
    positions = [int(m.group(1)) for n in files if (m := MODULE_FILE_RE.match(n))]
    name = f"{max(positions, default=0) + 1:02d}-{form.slug.data.strip()}.md"
    files[name] = f"---\ntitle: {_yaml_text(form.title.data)}\n---\n".encode()
    if _save(course, files, _("Modulo aggiunto.")):
        return redirect(
            url_for("courses.author_module", slug=slug, module_slug=form.slug.data.strip())
        )
    return redirect(url_for("courses.author_course", slug=slug))


@bp.route("/author/<slug>/modules/<module_slug>/move/<any(up,down):direction>", methods=["POST"])
@author_only
def author_module_move(slug: str, module_slug: str, direction: str) -> Any:
    course = _authored(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    files = authoring.draft_files(db.session, course, current_person())
    ordered = sorted(
        (n for n in files if MODULE_FILE_RE.match(n)),
        key=lambda n: int(MODULE_FILE_RE.match(n).group(1)),
    )
    index = ordered.index(_module_file(files, module_slug))
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    renamed = {n: c for n, c in files.items() if not MODULE_FILE_RE.match(n)}
    for position, name in enumerate(ordered, start=1):
        renamed[re.sub(r"^\d+-", f"{position:02d}-", name)] = files[name]
    _save(course, renamed, _("Ordine dei moduli aggiornato."))
    return redirect(url_for("courses.author_course", slug=slug))


@bp.route("/author/<slug>/modules/<module_slug>/delete", methods=["POST"])
@author_only
def author_module_delete(slug: str, module_slug: str) -> Any:
    course = _authored(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    files = authoring.draft_files(db.session, course, current_person())
    del files[_module_file(files, module_slug)]
    _save(course, files, _("Modulo eliminato dalla bozza."))
    return redirect(url_for("courses.author_course", slug=slug))


@bp.route("/author/<slug>/publish", methods=["POST"])
@author_only
def author_publish(slug: str) -> Any:
    course = _authored(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        version, changed = authoring.publish_draft(db.session, course, actor=current_person())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _("Pubblicata la versione %(n)d.", n=version.number)
            if changed
            else _("La bozza è identica alla versione pubblicata: nulla da pubblicare."),
            "success",
        )
    return redirect(url_for("courses.author_course", slug=slug))


@bp.route("/author/<slug>/archive", methods=["POST"])
@author_only
def author_archive(slug: str) -> Any:
    course = _authored(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    authoring.set_archived(db.session, course, not course.archived, actor=current_person())
    db.session.commit()
    flash(
        _("Corso ritirato dal catalogo.") if course.archived else _("Corso di nuovo nel catalogo."),
        "success",
    )
    return redirect(url_for("courses.author_course", slug=slug))


@bp.route("/author/<slug>/diff")
@author_only
def author_diff(slug: str) -> Any:
    course = _authored(slug)
    return render_template(
        "courses/author/diff.html",
        course=course,
        lines=authoring.diff_against_published(db.session, course),
    )


@bp.route("/author/<slug>/export.zip")
@author_only
def author_export(slug: str) -> Any:
    course = _authored(slug)
    version = authoring.get_draft(db.session, course.id) or authoring.latest_published(
        db.session, course.id
    )
    if version is None:
        abort(404)
    data = packaging.zip_files(packaging.version_files(version), course.slug)
    return attachment(data, f"{course.slug}.zip", "application/zip")


@bp.route("/author/preview", methods=["POST"])
@author_only
@body_limit(EDITOR)
def author_preview() -> Any:
    """Live preview: the same renderer and sanitiser as published lessons."""
    payload = request.get_json(silent=True) or {}
    text, version_id = payload.get("markdown", ""), payload.get("version_id")
    if not isinstance(text, str) or len(text) > 2_000_000:
        abort(400)
    base = authoring.asset_base(version_id) if isinstance(version_id, int) else ""
    blocks = fenced_blocks()
    lesson, cuts = split_blocks(text, blocks.keys())
    gated = any(blocks[cut.name].completion_message is not None for cut in cuts)
    excess = lesson_limits(text)
    if excess:  # what saving would refuse, said where the trainer is looking
        message = "; ".join(
            _("riga %(line)d: %(message)s", line=e.line, message=e.message) for e in excess
        )
        html = f'<p class="preview-refused" role="alert">{escape(message)}</p>'
        return jsonify(html=html, completed_by_block=gated, error=message), 422
    return jsonify(html=render_markdown(lesson, base), completed_by_block=gated)


@bp.route("/author/<slug>/modules/assets/<id:version_id>/<path:path>")
@author_only
def author_asset(slug: str, version_id: int, path: str) -> Any:
    course = _authored(slug)
    from courses.models import CourseVersion

    version = db.session.get(CourseVersion, version_id)
    if version is None or version.course_id != course.id:
        abort(404)
    return send_asset(version_id, path)
