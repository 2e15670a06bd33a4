"""Quiz pages: introduction, attempt form, submit, result; statistics for trainers."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from courses.api import (
    CourseVersion,
    authored_courses,
    can_author,
    find_module,
    get_course,
    published_version,
)
from lms import db
from lms.accounts.models import Role
from lms.authz import authenticated, current_person, roles_required
from lms.downloads import attachment
from lms.errors import NotFound, ServiceError
from lms.forms import ActionForm
from lms.organisations.services import list_audiences, list_organisations
from lms.rendering import render_markdown
from lms.urls import parse_id
from quizzes import attempts as service
from quizzes import results
from quizzes import stats as statistics
from quizzes.blueprint import bp
from quizzes.forms import StatsFilterForm
from quizzes.models import AttemptStatus
from quizzes.question_types import question_type

FIELD_PREFIX = "q::"


@bp.app_template_filter("quiz_markdown")
def quiz_markdown(text: str) -> str:
    return render_markdown(text)


def read_responses(form: MultiDict[str, str]) -> dict[str, Any]:
    """Form fields ``q::<question>`` (values) and ``q::<question>::<token>`` (one each)."""
    responses: dict[str, Any] = {}
    for key in form:
        if not key.startswith(FIELD_PREFIX):
            continue
        parts = key.split("::")
        if len(parts) == 2:
            values = [v for v in form.getlist(key) if v.strip()]
            if values:
                responses[parts[1]] = values
        elif len(parts) == 3 and form[key]:
            responses.setdefault(parts[1], {})[parts[2]] = form[key]
        else:
            responses.setdefault(parts[1], {})  # malformed: let the engine refuse it
    return responses


def _version_and_module(slug: str, module_slug: str) -> tuple[CourseVersion, Any]:
    version = published_version(db.session, slug)
    return version, find_module(version, module_slug)


@bp.route("/<slug>/<module_slug>/")
@authenticated
def quiz(slug: str, module_slug: str) -> Any:
    try:
        version, module = _version_and_module(slug, module_slug)
        state = service.quiz_state(db.session, current_person(), version, module)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("courses.course", slug=slug))
    db.session.commit()  # an expired open attempt may just have been closed
    return render_template("quizzes/quiz.html", version=version, module=module, state=state)


@bp.route("/<slug>/<module_slug>/start", methods=["POST"])
@authenticated
def start(slug: str, module_slug: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        version, module = _version_and_module(slug, module_slug)
        # Retried on a lost write race, as submits are (SQLite refuses to upgrade a stale
        # read transaction: "database is locked"); starting again resumes or starts once.
        attempt = db.commit_with_retries(
            lambda: service.start_attempt(db.session, current_person(), version, module)
        )
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("quizzes.quiz", slug=slug, module_slug=module_slug))
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))


@bp.route("/attempts/<id:attempt_id>", methods=["GET", "POST"])
@authenticated
def attempt(attempt_id: int) -> Any:
    try:
        current = service.own_attempt(db.session, current_person(), attempt_id)
    except ServiceError:
        abort(404)
    module = current.quiz.module
    slug = module.version.course.slug
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        return _submit(current.id, slug, module.slug)
    if current.status == AttemptStatus.SUBMITTED:
        return redirect(url_for("quizzes.result", attempt_id=current.id))
    if current.status != AttemptStatus.OPEN:
        flash(_("Il tentativo è chiuso."), "error")
        return redirect(url_for("quizzes.quiz", slug=slug, module_slug=module.slug))
    return render_template(
        "quizzes/attempt.html",
        attempt=current,
        module=module,
        version=module.version,
        questions=current.presented["questions"],
    )


def _submit(attempt_id: int, slug: str, module_slug: str) -> Any:
    responses = read_responses(request.form)
    try:
        submitted = db.commit_with_retries(
            lambda: service.submit_attempt(db.session, current_person(), attempt_id, responses)
        )
    except ServiceError as error:
        db.session.commit()  # keeps an expiry that was just recorded, nothing else
        flash(str(error), "error")
        if (
            service.own_attempt(db.session, current_person(), attempt_id).status
            == AttemptStatus.OPEN
        ):
            return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))
        return redirect(url_for("quizzes.quiz", slug=slug, module_slug=module_slug))
    return redirect(url_for("quizzes.result", attempt_id=submitted.id))


@bp.route("/attempts/<id:attempt_id>/result")
@authenticated
def result(attempt_id: int) -> Any:
    try:
        current = service.own_attempt(db.session, current_person(), attempt_id)
    except ServiceError:
        abort(404)
    if current.status != AttemptStatus.SUBMITTED:
        return redirect(url_for("quizzes.attempt", attempt_id=current.id))
    spec = service.spec_of(current.quiz)
    module = current.quiz.module
    version = published_version(db.session, module.version.course.slug)
    state = service.quiz_state(
        db.session, current_person(), version, find_module(version, module.slug)
    )
    assert state.rules is not None
    visible = results.visible_feedback(
        spec,
        state.rules,
        passed_ever=any(a.passed for a in state.attempts),
        course_completed=results.course_completed(db.session, current),
    )
    rows = []
    scores = {q["question_id"]: q for q in current.result["per_question"]}
    for shown in current.presented["questions"]:
        question = spec.question(shown["id"])
        rows.append(
            {
                "shown": shown,
                "question": question,
                "score": scores[question.id],
                "chosen": _chosen_texts(question, scores[question.id]["response"]),
                "correct": question_type(question).correct_answer(question)
                if visible.answers
                else None,
            }
        )
    return render_template(
        "quizzes/result.html",
        attempt=current,
        spec=spec,
        module=module,
        version=version,
        rows=rows,
        visible=visible,
        state=state,
    )


def _chosen_texts(question: Any, response: Any) -> list[str]:
    """The learner's answer in words, for the result page."""
    if response in (None, "", [], {}):
        return []
    if question.type in ("single", "multiple"):
        ids = response if isinstance(response, list) else [response]
        by_id = {o.id: o for o in question.options}
        return [by_id[i].text for i in ids if i in by_id]
    if question.type == "true_false":
        return [_("Vero") if response in (True, "true") else _("Falso")]
    if question.type == "matching":
        by_id = {p.id: p for p in question.pairs}
        return [
            f"{by_id[left].left} → {by_id[right].right}"
            for left, right in response.items()
            if left in by_id and right in by_id
        ]
    if question.type == "ordering":
        by_id = {i.id: i.text for i in question.items}
        return [by_id.get(i, "?") for i in response]
    return [str(response)]


# --- Trainer statistics ---------------------------------------------------------------


@bp.route("/stats/")
@roles_required(Role.TRAINER)
def stats_index() -> Any:
    courses = authored_courses(db.session, current_person())
    return render_template(
        "quizzes/stats_index.html", courses=[(c, _course_title(c)) for c in courses]
    )


def _stats_context(slug: str) -> tuple[Any, StatsFilterForm]:
    course = get_course(db.session, slug) if slug else None
    if course is None or not can_author(current_person(), course):
        abort(403)
    form = StatsFilterForm(request.args)
    locale = str(get_locale())
    form.organisation.choices = [SelectChoice("", _("Tutte le organizzazioni"))] + [
        SelectChoice(str(s.organisation.id), s.organisation.name)
        for s in list_organisations(db.session)
    ]
    form.audience.choices = [SelectChoice("", _("Tutti i profili"))] + [
        SelectChoice(a.code, a.name(locale)) for a in list_audiences(db.session)
    ]
    return course, form


def _compute(course: Any, form: StatsFilterForm) -> list[tuple[Any, Any]]:
    organisation = parse_id(form.organisation.data)
    return [
        (
            quiz,
            statistics.quiz_stats(
                db.session,
                course.id,
                quiz.module_slug,
                service.spec_of(quiz),
                organisation_id=organisation,
                audience_code=form.audience.data or None,
            ),
        )
        for quiz in statistics.module_quizzes(db.session, course.id)
    ]


def _course_title(course: Any) -> str:
    """The published title; a course still in draft has only its slug to show."""
    try:
        return published_version(db.session, course.slug).title
    except NotFound:
        return course.slug


@bp.route("/stats/<slug>/")
@roles_required(Role.TRAINER)
def stats(slug: str) -> Any:
    course, form = _stats_context(slug)
    results = _compute(course, form)
    return render_template(
        "quizzes/stats.html",
        course=course,
        title=_course_title(course),
        form=form,
        results=results,
        chart=statistics.pass_rate_chart(results),
        question_charts=[statistics.facility_chart(quiz, s) for quiz, s in results],
    )


@bp.route("/stats/<slug>/<module_slug>.csv")
@roles_required(Role.TRAINER)
def stats_csv(slug: str, module_slug: str) -> Any:
    course, form = _stats_context(slug)
    for quiz, computed in _compute(course, form):
        if quiz.module_slug == module_slug:
            name = f"quiz-{slug}-{module_slug}.csv"
            return attachment(statistics.stats_csv(computed), name, "text/csv")
    abort(404)
