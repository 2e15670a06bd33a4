"""Trainer pages: upload, edit with live preview, reorder, publish, diff, export."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import select
from wtforms import SelectChoice

from courses import authoring, packaging
from courses.blueprint import bp
from courses.evidence import BUILT_IN
from courses.format import MODULE_FILE_RE, fenced_blocks, lesson_limits, split_blocks
from courses.forms import (
    OPTION_ROWS,
    CoauthorForm,
    CourseFrontForm,
    CourseMetaForm,
    ModuleForm,
    NewModuleForm,
    QuestionForm,
    QuizSettingsForm,
    UploadCourseForm,
)
from courses.models import Course
from courses.packaging import MAX_ZIP_BYTES
from courses.rendering import render_inline, render_markdown
from courses.views import send_asset
from lms import db
from lms.accounts.models import Role
from lms.authz import current_person, roles_required
from lms.downloads import attachment
from lms.errors import FormatError, ServiceError
from lms.forms import ActionForm
from lms.limits import EDITOR, body_limit
from lms.organisations.models import Audience

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
        flash(str(authoring.italian_issue(issue)), "format")


@bp.route("/author/")
@author_only
def author_index() -> Any:
    return render_template(
        "courses/author/index.html",
        courses=authoring.authored_courses(db.session, current_person()),
        upload_form=UploadCourseForm(),
        drafts=_draft_ids(),
        titles=_titles(),
    )


def _titles() -> dict[int, str]:
    """Each course's title as its authors see it: the draft's, else the latest version's."""
    from courses.models import CourseVersion

    rows = db.session.execute(
        select(CourseVersion.course_id, CourseVersion.title).order_by(
            CourseVersion.course_id, CourseVersion.number.desc().nulls_first()
        )
    )
    titles: dict[int, str] = {}
    for course_id, title in rows:
        titles.setdefault(course_id, title)
    return titles


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
            titles=_titles(),
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


def _front_form(form: CourseFrontForm) -> CourseFrontForm:
    """Fill the choices from the registry: audiences as check boxes, evidence profiles."""
    locale = str(get_locale() or "it")
    audiences = db.session.scalars(select(Audience).order_by(Audience.code))
    form.audiences.choices = [SelectChoice("all", _("Tutti i profili"))] + [
        SelectChoice(a.code, a.name(locale)) for a in audiences
    ]
    form.evidence.choices = [SelectChoice("", _("Quello dell'installazione"))] + [
        SelectChoice(name, name) for name in BUILT_IN
    ]
    return form


def _fill_front_form(form: CourseFrontForm, course_md: str) -> None:
    data = authoring.read_front_matter(course_md)
    form.slug.data = data.get("slug", "")
    form.title.data = str(data.get("title", ""))
    form.summary.data = str(data.get("summary", ""))
    audiences = data.get("audiences") or []
    form.audiences.data = [str(a) for a in (audiences if isinstance(audiences, list) else [])]
    form.objectives.data = "\n".join(str(o) for o in data.get("objectives") or [])
    form.prerequisites.data = "\n".join(str(p) for p in data.get("prerequisites") or [])
    form.renewal_months.data = data.get("renewal_months")
    evidence = data.get("evidence")
    if isinstance(evidence, str):
        form.evidence.data = evidence
    elif evidence is not None:  # adjusted rules: kept as written, changed in the text only
        form.evidence.choices.append(
            SelectChoice("__custom__", _("Regole del corso (vedi il testo)"))
        )
        form.evidence.data = "__custom__"
    form.self_enrolment.data = bool(data.get("self_enrolment", True))
    form.public.data = bool(data.get("public", False))
    form.intro.data = authoring.body_of(course_md).strip("\n")


def _front_changes(form: CourseFrontForm) -> dict[str, Any]:
    changes = form.front_matter()
    if changes["evidence"] == "__custom__":
        del changes["evidence"]  # the adjusted rules stay as the author wrote them
    if "all" in changes["audiences"]:
        changes["audiences"] = ["all"]
    return changes


def _intro(form: CourseFrontForm) -> str:
    text = (form.intro.data or "").replace("\r\n", "\n").strip("\n")
    return text + "\n" if text else ""


@bp.route("/author/new", methods=["GET", "POST"])
@author_only
@body_limit(EDITOR)
def author_new() -> Any:
    """A new course from fields: the platform writes course.md and a first module."""
    form = _front_form(CourseFrontForm())
    if request.method == "GET":
        form.self_enrolment.data = True
        form.audiences.data = ["all"]
    if form.validate_on_submit():
        slug = (form.slug.data or "").strip()
        if not slug:
            form.slug.errors = [_("Indica l'identificativo del corso.")]
        else:
            changes = {"slug": slug, **_front_changes(form), "language": "it", "version": "0.1"}
            course_md = authoring.set_front_matter("", changes)
            files = {
                "course.md": authoring.set_body(course_md, _intro(form)).encode(),
                "01-introduzione.md": FIRST_MODULE,
            }
            try:
                result = authoring.import_files(
                    db.session, files, user=current_person(), publish=False
                )
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
                flash(_("Corso creato come bozza."), "success")
                return redirect(url_for("courses.author_course", slug=result.course.slug))
    return render_template("courses/author/new.html", form=form)


@bp.route("/author/<slug>/")
@author_only
def author_course(slug: str) -> Any:
    course = _authored(slug)
    draft = authoring.get_draft(db.session, course.id)
    published = authoring.latest_published(db.session, course.id)
    shown = draft or published
    front_form = None
    if draft is not None:
        front_form = _front_form(CourseFrontForm())
        _fill_front_form(front_form, packaging.version_files(draft)["course.md"].decode())
    return render_template(
        "courses/author/course.html",
        course=course,
        title=shown.title if shown else course.slug,
        draft=draft,
        published=published,
        versions=authoring.versions_of(db.session, course.id),
        front_form=front_form,
        module_form=NewModuleForm(),
        action_form=ActionForm(),
        coauthor_form=CoauthorForm(),
        manages=authoring.can_manage_coauthors(current_person(), course),
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
    """The course form: only the keys that changed are rewritten in course.md."""
    course = _authored(slug)
    form = _front_form(CourseFrontForm())
    if form.validate_on_submit():
        files = authoring.draft_files(db.session, course, current_person())
        try:
            course_md = authoring.set_front_matter(
                files["course.md"].decode(), _front_changes(form)
            )
            files["course.md"] = authoring.set_body(course_md, _intro(form)).encode()
        except FormatError as error:
            _show_format_errors(error)
        else:
            _save(course, files, _("Bozza salvata."))
    else:
        _flash_form_errors(form)
    return redirect(url_for("courses.author_course", slug=slug))


def _flash_form_errors(form: Any) -> None:
    for name, errors in form.errors.items():
        label = getattr(getattr(form, name, None), "label", None)
        for message in errors:
            flash(f"{label.text}: {message}" if label else str(message), "error")


@bp.route("/author/<slug>/source", methods=["GET", "POST"])
@author_only
@body_limit(EDITOR)
def author_source(slug: str) -> Any:
    """course.md as text, for what the form does not cover (accreditation, adjusted rules)."""
    course = _authored(slug)
    files = authoring.draft_files(db.session, course, current_person())
    form = CourseMetaForm()
    if form.validate_on_submit():
        files["course.md"] = form.source.data.replace("\r\n", "\n").encode()
        if _save(course, files, _("Bozza salvata.")):
            return redirect(url_for("courses.author_course", slug=slug))
        db.session.commit()  # the draft the page was opened on
    elif request.method == "GET":
        form.source.data = files["course.md"].decode()
    return render_template("courses/author/source.html", course=course, form=form)


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
        source = authoring.set_front_matter(
            files[name].decode(),
            {"title": form.title.data.strip(), "estimated_minutes": form.estimated_minutes.data},
            file=name,
        )
        files[name] = authoring.set_body(source, form.body.data.replace("\r\n", "\n")).encode()
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
    header = authoring.set_front_matter("", {"title": form.title.data.strip()}, file=name)
    files[name] = (header + "\n" + _("Testo del modulo.") + "\n").encode()
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


@bp.route("/author/<slug>/publish", methods=["GET", "POST"])
@author_only
def author_publish(slug: str) -> Any:
    """GET: what publishing changes (the diff), to confirm; POST: publish."""
    course = _authored(slug)
    if request.method == "GET":
        draft = authoring.get_draft(db.session, course.id)
        return render_template(
            "courses/author/publish.html",
            course=course,
            draft=draft,
            published=authoring.latest_published(db.session, course.id),
            lines=authoring.diff_against_published(db.session, course) if draft else [],
            action_form=ActionForm(),
        )
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
    if authoring.latest_published(db.session, course.id) is None:
        flash(_("Il corso non è mai stato pubblicato: non è nel catalogo."), "error")
        return redirect(url_for("courses.author_course", slug=slug))
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
        published=authoring.latest_published(db.session, course.id),
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


# --- Co-authors ---------------------------------------------------------------------------


@bp.route("/author/<slug>/coauthors", methods=["POST"])
@author_only
def author_coauthor_add(slug: str) -> Any:
    course = _authored(slug)
    if not authoring.can_manage_coauthors(current_person(), course):
        abort(403)
    form = CoauthorForm()
    if not form.validate_on_submit():
        _flash_form_errors(form)
        return redirect(url_for("courses.author_course", slug=slug) + "#coauthors-heading")
    try:
        trainer = authoring.add_coauthor(
            db.session, course, form.email.data, actor=current_person()
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        message = _("%(name)s ora può scrivere e pubblicare il corso.", name=trainer.full_name)
        flash(message, "success")
    return redirect(url_for("courses.author_course", slug=slug) + "#coauthors-heading")


@bp.route("/author/<slug>/coauthors/<id:user_id>/remove", methods=["POST"])
@author_only
def author_coauthor_remove(slug: str, user_id: int) -> Any:
    course = _authored(slug)
    if not authoring.can_manage_coauthors(current_person(), course):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        authoring.remove_coauthor(db.session, course, user_id, actor=current_person())
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Coautrice o coautore rimosso."), "success")
    return redirect(url_for("courses.author_course", slug=slug) + "#coauthors-heading")


# --- Help: the format guide, inside the platform --------------------------------------------

FORMAT_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "course-format.md"


@bp.route("/author/help")
@author_only
def author_help() -> Any:
    """docs/course-format.md through the platform's sanitising renderer."""
    try:
        text = FORMAT_GUIDE.read_text(encoding="utf-8")
    except OSError:
        abort(404)
    return render_template("courses/author/help.html", html=render_markdown(text))


# --- The quiz editor ----------------------------------------------------------------------

QUESTION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def _module_source(course: Course, module_slug: str) -> tuple[dict[str, bytes], str, str]:
    """The draft's files (a draft is made if needed), the module's file name and text."""
    files = authoring.draft_files(db.session, course, current_person())
    name = _module_file(files, module_slug)
    return files, name, files[name].decode()


def _shown_module(course: Course, module_slug: str) -> tuple[Any, Any]:
    shown = authoring.get_draft(db.session, course.id) or authoring.latest_published(
        db.session, course.id
    )
    module = next((m for m in shown.modules if m.slug == module_slug), None) if shown else None
    if module is None:
        abort(404)
    return shown, module


@bp.route("/author/<slug>/modules/<module_slug>/quiz", methods=["GET", "POST"])
@author_only
def author_quiz(slug: str, module_slug: str) -> Any:
    """The module's quiz: its questions, and the pass mark and attempts."""
    course = _authored(slug)
    shown, module = _shown_module(course, module_slug)
    try:
        quiz, _yaml = authoring.quiz_of(module.body_md)
    except FormatError as error:
        _show_format_errors(error)
        quiz = None
    form = QuizSettingsForm()
    if form.validate_on_submit():
        files, name, source = _module_source(course, module_slug)
        body = authoring.body_of(source, file=name)
        quiz, yaml = authoring.quiz_of(body)
        if quiz is None:
            quiz = authoring.CommentedMap()
            quiz["questions"] = []
        for key in ("pass_mark", "attempts"):
            value = getattr(form, key).data
            if value is None:
                quiz.pop(key, None)
            elif quiz.get(key) != value:
                quiz[key] = value
        if not quiz.get("questions"):
            flash(_("Aggiungi almeno una domanda prima di salvare il quiz."), "error")
            return redirect(url_for("courses.author_quiz", slug=slug, module_slug=module_slug))
        files[name] = authoring.set_body(
            source, authoring.write_quiz(body, quiz, yaml), file=name
        ).encode()
        _save(course, files, _("Quiz salvato nella bozza."))
        return redirect(url_for("courses.author_quiz", slug=slug, module_slug=module_slug))
    if request.method == "GET" and quiz is not None:
        form.pass_mark.data = quiz.get("pass_mark")
        form.attempts.data = quiz.get("attempts")
    questions = [q for q in (quiz or {}).get("questions") or [] if isinstance(q, dict)]
    return render_template(
        "courses/author/quiz.html",
        course=course,
        module=module,
        questions=questions,
        form=form,
        action_form=ActionForm(),
        has_quiz=quiz is not None,
    )


def _fill_question(form: QuestionForm, question: dict[str, Any]) -> None:
    form.qid.data = str(question.get("id", ""))
    form.type.data = str(question.get("type", "single"))
    form.text.data = str(question.get("text", ""))
    form.points.data = question.get("points", 1)
    form.feedback.data = str(question.get("feedback", "") or "")
    form.answer.data = "true" if question.get("answer") is True else "false"
    kind = form.type.data
    if kind == "short":
        form.lines.data = "\n".join(str(a) for a in question.get("answers") or [])
    elif kind == "ordering":
        form.lines.data = "\n".join(str(i) for i in question.get("items") or [])
    elif kind == "matching":
        form.lines.data = "\n".join(
            f"{p.get('left', '')} = {p.get('right', '')}" for p in question.get("pairs") or []
        )
    options = list(question.get("options") or [])
    while len(form.options.entries) < max(len(options), OPTION_ROWS):
        form.options.append_entry()
    for row, option in zip(form.options.entries, options, strict=False):
        option = option if isinstance(option, dict) else {"text": option}
        row.form.text.data = str(option.get("text", ""))
        row.form.correct.data = bool(option.get("correct", False))
        row.form.feedback.data = str(option.get("feedback", "") or "")


def _question_from(form: QuestionForm, taken: list[str]) -> dict[str, Any] | None:
    """The question the form describes, or ``None`` after putting Italian errors on it."""
    ok = True
    qid = (form.qid.data or "").strip()
    if not QUESTION_ID_RE.match(qid):
        form.qid.errors.append(_("Solo minuscole, cifre, '-' e '_' (al massimo 60)."))
        ok = False
    elif qid in taken:
        form.qid.errors.append(_("Un'altra domanda del quiz ha già questo identificativo."))
        ok = False
    kind = form.type.data
    question: dict[str, Any] = {"id": qid, "type": kind, "text": form.text.data.strip()}
    if form.points.data and form.points.data != 1:
        question["points"] = form.points.data
    lines = [line.strip() for line in (form.lines.data or "").splitlines() if line.strip()]
    if kind in ("single", "multiple"):
        options = []
        for row in form.options.entries:
            text = (row.form.text.data or "").strip()
            if not text:
                continue
            option: dict[str, Any] = {"text": text}
            if row.form.correct.data:
                option["correct"] = True
            if (row.form.feedback.data or "").strip():
                option["feedback"] = row.form.feedback.data.strip()
            options.append(option)
        right = sum(1 for o in options if o.get("correct"))
        if len(options) < 2:
            form.options.errors.append(_("Servono almeno due opzioni."))
            ok = False
        elif kind == "single" and right != 1:
            form.options.errors.append(_("Nella scelta singola una sola opzione è giusta."))
            ok = False
        elif kind == "multiple" and right < 1:
            form.options.errors.append(_("Segna almeno un'opzione giusta."))
            ok = False
        question["options"] = options
    elif kind == "true_false":
        question["answer"] = form.answer.data == "true"
    elif kind == "short":
        if not lines:
            form.lines.errors.append(_("Scrivi almeno una risposta accettata."))
            ok = False
        question["answers"] = lines
    elif kind == "ordering":
        if len(lines) < 2:
            form.lines.errors.append(_("Servono almeno due passaggi, uno per riga."))
            ok = False
        question["items"] = lines
    elif kind == "matching":
        pairs = []
        for line in lines:
            left, sep, right = line.partition("=")
            if not sep or not left.strip() or not right.strip():
                form.lines.errors.append(
                    _("Riga «%(line)s»: scrivi «sinistra = destra».", line=line)
                )
                ok = False
                continue
            pairs.append({"left": left.strip(), "right": right.strip()})
        if ok and len(pairs) < 2:
            form.lines.errors.append(_("Servono almeno due coppie."))
            ok = False
        question["pairs"] = pairs
    if (form.feedback.data or "").strip():
        question["feedback"] = form.feedback.data.strip()
    return question if ok else None


@bp.route(
    "/author/<slug>/modules/<module_slug>/quiz/questions/<question_id>",
    methods=["GET", "POST"],
)
@author_only
@body_limit(EDITOR)
def author_question(slug: str, module_slug: str, question_id: str) -> Any:
    """Write one question of the quiz block ("nuova": a new one), with a preview."""
    course = _authored(slug)
    _shown, module = _shown_module(course, module_slug)
    quiz, _yaml = authoring.quiz_of(module.body_md)
    existing = next(
        (
            q
            for q in (quiz or {}).get("questions") or []
            if isinstance(q, dict) and str(q.get("id")) == question_id
        ),
        None,
    )
    if question_id != "nuova" and existing is None:
        abort(404)
    form = QuestionForm()
    preview = None
    if request.method == "GET":
        if existing is not None:
            _fill_question(form, existing)
        else:
            form.qid.data = f"domanda-{len(authoring.question_ids(quiz)) + 1}"
    elif form.validate_on_submit():
        taken = [i for i in authoring.question_ids(quiz) if i != question_id]
        question = _question_from(form, taken)
        if question is not None and form.preview.data:
            preview = _question_preview(question)
        elif question is not None:
            files, name, source = _module_source(course, module_slug)
            body = authoring.body_of(source, file=name)
            quiz, yaml = authoring.quiz_of(body)
            if quiz is None:
                quiz = authoring.CommentedMap()
            questions = quiz.setdefault("questions", authoring.CommentedSeq())
            index = next(
                (
                    i
                    for i, q in enumerate(questions)
                    if isinstance(q, dict) and str(q.get("id")) == question_id
                ),
                None,
            )
            if index is None:
                questions.append(question)
            else:
                old = questions[index]
                for key in [k for k in old if k not in question]:
                    if key not in ("tags",):  # keys the form does not show stay
                        del old[key]
                for key, value in question.items():
                    if old.get(key) != value:
                        old[key] = value
            files[name] = authoring.set_body(
                source, authoring.write_quiz(body, quiz, yaml), file=name
            ).encode()
            if _save(course, files, _("Domanda salvata nella bozza.")):
                return redirect(url_for("courses.author_quiz", slug=slug, module_slug=module_slug))
    return render_template(
        "courses/author/question.html",
        course=course,
        module=module,
        form=form,
        question_id=question_id,
        preview=preview,
    )


def _question_preview(question: dict[str, Any]) -> dict[str, Any]:
    """The question as a learner reads it (sanitised Markdown), with the right answers."""
    return {
        "text": render_markdown(question["text"]),
        "type": question["type"],
        "options": [
            {
                "html": render_inline(o["text"]),
                "correct": o.get("correct", False),
                "feedback": o.get("feedback", ""),
            }
            for o in question.get("options", [])
        ],
        "answer": question.get("answer"),
        "lines": question.get("answers")
        or question.get("items")
        or [f"{p['left']} → {p['right']}" for p in question.get("pairs", [])],
        "feedback": render_inline(question.get("feedback", "")),
        "points": question.get("points", 1),
    }


@bp.route(
    "/author/<slug>/modules/<module_slug>/quiz/questions/<question_id>/delete", methods=["POST"]
)
@author_only
def author_question_delete(slug: str, module_slug: str, question_id: str) -> Any:
    course = _authored(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    files, name, source = _module_source(course, module_slug)
    body = authoring.body_of(source, file=name)
    quiz, yaml = authoring.quiz_of(body)
    questions = (quiz or {}).get("questions") or []
    kept = [q for q in questions if not (isinstance(q, dict) and str(q.get("id")) == question_id)]
    if len(kept) == len(questions):
        abort(404)
    if not kept:
        flash(_("Il quiz deve avere almeno una domanda."), "error")
    else:
        del questions[:]
        questions.extend(kept)
        files[name] = authoring.set_body(
            source, authoring.write_quiz(body, quiz, yaml), file=name
        ).encode()
        _save(course, files, _("Domanda eliminata dalla bozza."))
    return redirect(url_for("courses.author_quiz", slug=slug, module_slug=module_slug))
