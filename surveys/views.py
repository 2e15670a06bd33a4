"""The learner's questionnaire, and the results for trainers and the coordinator."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import SelectChoice

from lms import db
from lms.accounts.models import Role
from lms.authz import authenticated, current_person, roles_required
from lms.downloads import attachment
from lms.errors import Forbidden, NotFound, ServiceError
from lms.organisations.models import OrganisationType
from lms.organisations.views import organisation_type_label
from surveys import answering, results
from surveys.blueprint import bp
from surveys.forms import ResultsFilterForm, field_name, survey_form
from surveys.questions import questions


@bp.route("/")
@authenticated
def index() -> Any:
    person = current_person()
    return render_template(
        "surveys/index.html",
        pending=answering.pending_surveys(db.session, person.id),
        courses=results.visible_courses(db.session, person)
        if person.has_role(Role.ADMIN, Role.TRAINER, Role.COORDINATOR)
        else [],
    )


@bp.route("/<id:course_id>/", methods=["GET", "POST"])
@authenticated
def answer(course_id: int) -> Any:
    person = current_person()
    try:
        survey = answering.open_survey(db.session, person, course_id)
    except (Forbidden, NotFound):
        raise  # 403 / 404 pages
    except ServiceError as error:  # already answered
        flash(str(error), "info")
        return redirect(url_for("surveys.index"))
    locale = str(get_locale())
    asked = questions()
    form = survey_form(asked, locale)
    if form.validate_on_submit():
        values: dict[str, int | str | None] = {}
        for question in asked:
            data = form[field_name(question)].data
            values[question.key] = int(data) if question.is_scale else data
        try:
            completion = answering.submit(db.session, person, course_id, asked, values)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Grazie: le tue risposte sono registrate in forma anonima."), "success")
            if completion is not None:
                flash(_("Hai completato il corso."), "success")
            return redirect(url_for("courses.course", slug=survey.version.course.slug))
    return render_template(
        "surveys/answer.html", form=form, version=survey.version, questions=asked
    )


def _filters(course_id: int) -> tuple[ResultsFilterForm, results.Filters]:
    form = ResultsFilterForm(request.args)
    numbers = results.version_numbers(db.session, course_id)
    form.version.choices = [SelectChoice("", _("Tutte"))] + [
        SelectChoice(str(n), str(n)) for n in numbers
    ]
    form.organisation_type.choices = [SelectChoice("", _("Tutti"))] + [
        SelectChoice(t.value, organisation_type_label(t.value)) for t in OrganisationType
    ]
    if request.args and not form.validate():
        return form, results.Filters()
    version = form.version.data
    return form, results.Filters(
        version_number=int(version) if version else None,
        organisation_type=form.organisation_type.data or None,
        month_from=form.month_from.data or None,
        month_to=form.month_to.data or None,
    )


@bp.route("/<id:course_id>/results")
@roles_required(Role.TRAINER, Role.COORDINATOR)
def course_results(course_id: int) -> Any:
    course = answering.get_course(db.session, course_id)
    results.require_results_access(current_person(), course)
    form, filters = _filters(course_id)
    found = results.aggregate(db.session, course_id, questions(), filters)
    return render_template(
        "surveys/results.html",
        course=course,
        title=results.course_title(db.session, course_id),
        form=form,
        results=found,
        questions=questions(),
        locale=str(get_locale()),
        small=results.SMALL,
        min_count=results.MIN_COUNT,
        mean_text=results.mean_text,
    )


@bp.route("/<id:course_id>/results.csv")
@roles_required(Role.TRAINER, Role.COORDINATOR)
def course_results_csv(course_id: int) -> Any:
    course = answering.get_course(db.session, course_id)
    results.require_results_access(current_person(), course)
    _form, filters = _filters(course_id)
    found = results.aggregate(db.session, course_id, questions(), filters)
    headers = [_("Domanda"), _("Testo"), _("Risposte"), _("Media")]
    body = results.results_csv(found, str(get_locale()), headers)
    return attachment(body, f"questionario-{course.slug}.csv", "text/csv; charset=utf-8")
