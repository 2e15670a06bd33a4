"""Answering the questionnaire: who may, once per version, and what it unlocks.

The answers are written without the person (:mod:`surveys.models`); the marker that
the person answered is written apart. Completion is asked again at once, so that the
course completes, and its certificate is issued, as the questionnaire is sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courses.api import (
    Course,
    CourseCompletion,
    CourseVersion,
    Enrolment,
    ModuleProgress,
    ProgressStatus,
    active_enrolment,
    check_completion,
    evidence_of,
    latest_versions_query,
)
from lms import clock
from lms.accounts.models import User
from lms.errors import Forbidden, NotFound, ServiceError
from lms.organisations.models import Membership, Organisation
from surveys.models import MONTH_FORMAT, SurveyAnswer, SurveyMarker, SurveyResponse
from surveys.questions import SCALE, Question

MAX_COMMENT = 2000


def has_answered(session: Session, user_id: int, version_id: int) -> bool:
    found = session.scalar(
        select(SurveyMarker.user_id).where(
            SurveyMarker.user_id == user_id, SurveyMarker.version_id == version_id
        )
    )
    return found is not None


def survey_requirement(session: Session, user_id: int, version: CourseVersion) -> bool:
    """A course is complete only once its questionnaire is answered, where its evidence
    profile requires it (``survey_required``: ECM asks for the questionnaire before the
    credits). Registered in the app's ``courses.api.COMPLETION_REQUIREMENTS``."""
    if not evidence_of(version).survey_required:
        return True
    return has_answered(session, user_id, version.id)


def current_version(session: Session, course_id: int) -> CourseVersion:
    version = session.scalar(latest_versions_query().where(CourseVersion.course_id == course_id))
    if version is None:
        raise NotFound(_("Corso non trovato."))
    return version


def get_course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(_("Corso non trovato."))
    return course


def modules_done(
    session: Session, user_id: int, version: CourseVersion, enrolment: Enrolment
) -> bool:
    """Every required module of the version is complete in the enrolment's cycle."""
    required = {m.slug for m in version.modules if m.required}
    completed = set(
        session.scalars(
            select(ModuleProgress.module_slug).where(
                ModuleProgress.user_id == user_id,
                ModuleProgress.course_id == enrolment.course_id,
                ModuleProgress.cycle == enrolment.cycle,
                ModuleProgress.status == ProgressStatus.COMPLETED,
            )
        )
    )
    return required <= completed


@dataclass(frozen=True)
class OpenSurvey:
    version: CourseVersion
    enrolment: Enrolment


def open_survey(session: Session, user: User, course_id: int) -> OpenSurvey:
    """The questionnaire the person may answer now for this course, or why not."""
    version = current_version(session, course_id)
    enrolment = active_enrolment(session, user.id, course_id)
    if enrolment is None:
        raise Forbidden(_("Il questionario è per chi è iscritto al corso."))
    if has_answered(session, user.id, version.id):
        raise ServiceError(_("Hai già compilato il questionario di questo corso."))
    if not modules_done(session, user.id, version, enrolment):
        raise Forbidden(_("Il questionario si apre quando hai completato i moduli del corso."))
    return OpenSurvey(version, enrolment)


def organisation_type(session: Session, user_id: int) -> str | None:
    """The type of the person's first current organisation (the only one, for most)."""
    return session.scalar(
        select(Organisation.type)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user_id, Membership.ended_at.is_(None))
        .order_by(Membership.id)
        .limit(1)
    )


def submit(
    session: Session,
    user: User,
    course_id: int,
    questions: tuple[Question, ...],
    values: dict[str, int | str | None],
    *,
    now: dt.datetime | None = None,
) -> CourseCompletion | None:
    """Store the answers anonymously, mark the person as having answered, and check the
    course's completion again; returns the completion if this made the course complete."""
    now = now or clock.now()
    survey = open_survey(session, user, course_id)
    version = survey.version
    answers: list[SurveyAnswer] = []
    for question in questions:
        value = values.get(question.key)
        if question.is_scale:
            if not isinstance(value, int) or value not in SCALE:
                raise ServiceError(_("Rispondi a tutte le domande con un valore da 1 a 5."))
            answers.append(SurveyAnswer(question_key=question.key, score=value))
        elif isinstance(value, str) and value.strip():
            answers.append(
                SurveyAnswer(question_key=question.key, comment=value.strip()[:MAX_COMMENT])
            )
    try:
        with session.begin_nested():
            session.add(
                SurveyMarker(user_id=user.id, version_id=version.id, course_id=version.course_id)
            )
            session.flush()
    except IntegrityError:  # sent twice at once: the first one counts
        raise ServiceError(_("Hai già compilato il questionario di questo corso.")) from None
    session.add(
        SurveyResponse(
            course_id=version.course_id,
            version_id=version.id,
            version_number=version.number or 0,
            organisation_type=organisation_type(session, user.id),
            month=now.strftime(MONTH_FORMAT),
            answers=answers,
        )
    )
    session.flush()
    return check_completion(session, user, version, survey.enrolment, now=now)


@dataclass(frozen=True)
class Pending:
    course_id: int
    title: str


def pending_surveys(session: Session, user_id: int) -> list[Pending]:
    """Courses whose modules the person has completed and whose questionnaire awaits."""
    enrolments = {
        e.course_id: e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.ended_at.is_(None))
        )
    }
    if not enrolments:
        return []
    answered = set(
        session.scalars(select(SurveyMarker.version_id).where(SurveyMarker.user_id == user_id))
    )
    versions = session.scalars(
        latest_versions_query()
        .where(CourseVersion.course_id.in_(enrolments))
        .order_by(CourseVersion.title)
    )
    return [
        Pending(v.course_id, v.title)
        for v in versions
        if v.id not in answered and modules_done(session, user_id, v, enrolments[v.course_id])
    ]
