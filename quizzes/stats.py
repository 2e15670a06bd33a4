"""Quiz statistics, as Moodle's quiz statistics report computes them.

Facility index = mean score of a question (0-100 %). Discrimination index =
correlation between a question's score and the rest of the attempt's score
(the attempt without that question), from sums computed by the database.
Every submitted attempt counts (Moodle's "all attempts"); filters restrict to
the current staff of an organisation and/or an audience.

Small cells: when the people whose attempts are counted (after any filter) are fewer than
:data:`MIN_COUNT`, nothing but that fact is returned — no pass rate, mean, facility or
option count — since a filter narrowed to one person would otherwise show that person's
answers. People, not attempts: one person's five attempts are still one person's answers.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Float, and_, case, cast, exists, func, select
from sqlalchemy.orm import Session

from courses.api import Module
from lms.charts import Bar, bar_chart
from lms.exports import csv_writer
from lms.organisations.models import Audience, Membership
from lms.quantities import percent_text
from quizzes.models import Attempt, AttemptAnswer, AttemptChoice, AttemptStatus, Quiz
from quizzes.records import QuizSpec

MIN_COUNT = 5  # the network's rule for every aggregate (commitments, surveys)


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    text: str
    type: str
    attempts: int
    facility: float | None  # %
    discrimination: float | None  # correlation, -1..1
    options: list[tuple[str, str, int, bool]] = field(default_factory=list)  # id, text, n, right


@dataclass(frozen=True)
class QuizStats:
    attempts: int
    passed: int
    mean_percent: float | None
    questions: list[QuestionStats]
    withheld: bool = False  # fewer than MIN_COUNT people: only that is said
    people: int = 0  # distinct people behind the attempts

    @property
    def pass_rate(self) -> float | None:
        if self.withheld or not self.attempts:
            return None
        return 100 * self.passed / self.attempts


def _filters(
    course_id: int, module_slug: str, organisation_id: int | None, audience_code: str | None
) -> list:
    conditions = [
        Attempt.course_id == course_id,
        Attempt.module_slug == module_slug,
        Attempt.status == AttemptStatus.SUBMITTED,
    ]
    if organisation_id is not None or audience_code:
        member = [Membership.user_id == Attempt.user_id, Membership.ended_at.is_(None)]
        if organisation_id is not None:
            member.append(Membership.organisation_id == organisation_id)
        if audience_code:
            member.append(
                Membership.audience_id
                == select(Audience.id).where(Audience.code == audience_code).scalar_subquery()
            )
        conditions.append(exists().where(and_(*member)))
    return conditions


def quiz_stats(
    session: Session,
    course_id: int,
    module_slug: str,
    spec: QuizSpec,
    *,
    organisation_id: int | None = None,
    audience_code: str | None = None,
) -> QuizStats:
    conditions = _filters(course_id, module_slug, organisation_id, audience_code)
    total, people, passed, mean = session.execute(
        select(
            func.count(Attempt.id),
            func.count(func.distinct(Attempt.user_id)),
            func.sum(case((Attempt.passed.is_(True), 1), else_=0)),
            func.avg(cast(Attempt.percent, Float)),
        ).where(*conditions)
    ).one()
    if 0 < (people or 0) < MIN_COUNT:
        return QuizStats(0, 0, None, [], withheld=True)
    x = cast(AttemptAnswer.fraction, Float)
    weight = cast(AttemptAnswer.points, Float)
    rest_available = cast(Attempt.points_available, Float) - weight
    rest = case(
        (rest_available > 0, (cast(Attempt.points_earned, Float) - x * weight) / rest_available),
        else_=0.0,
    )
    rows = session.execute(
        select(
            AttemptAnswer.question_id,
            func.count(),
            func.sum(x),
            func.sum(x * x),
            func.sum(rest),
            func.sum(rest * rest),
            func.sum(x * rest),
        )
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(*conditions)
        .group_by(AttemptAnswer.question_id)
    ).all()
    sums = {r[0]: r[1:] for r in rows}
    choices: dict[tuple[str, str], int] = {
        (q, o): n
        for q, o, n in session.execute(
            select(AttemptChoice.question_id, AttemptChoice.option_id, func.count())
            .join(Attempt, Attempt.id == AttemptChoice.attempt_id)
            .where(*conditions)
            .group_by(AttemptChoice.question_id, AttemptChoice.option_id)
        )
    }
    questions = []
    for question in spec.questions:
        n, sx, sxx, sr, srr, sxr = sums.get(question.id, (0, 0, 0, 0, 0, 0))
        facility = 100 * sx / n if n else None
        discrimination = None
        if n and n > 1:
            denominator = (n * sxx - sx * sx) * (n * srr - sr * sr)
            if denominator > 1e-12:
                discrimination = (n * sxr - sx * sr) / math.sqrt(denominator)
        options: list[tuple[str, str, int, bool]] = []
        if question.type in ("single", "multiple"):
            options = [
                (o.id, o.text, choices.get((question.id, o.id), 0), o.correct)
                for o in question.options
            ]
        elif question.type == "true_false":
            options = [
                (
                    value,
                    label,
                    # "True"/"False": as attempts submitted before the fix recorded them
                    choices.get((question.id, value), 0)
                    + choices.get((question.id, value.capitalize()), 0),
                    (value == "true") == bool(question.answer),
                )
                for value, label in (("true", _("Vero")), ("false", _("Falso")))
            ]
        questions.append(
            QuestionStats(
                question.id, question.text, question.type, int(n), facility, discrimination, options
            )
        )
    return QuizStats(
        int(total or 0),
        int(passed or 0),
        float(mean) if mean is not None else None,
        questions,
        people=int(people or 0),
    )


def stats_csv(stats: QuizStats) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(
        [
            "question_id",
            "type",
            "attempts",
            "facility_percent",
            "discrimination",
            "options (id:count)",
        ]
    )
    for q in stats.questions:  # none when the cell is withheld
        writer.writerow(
            [
                q.question_id,
                q.type,
                q.attempts,
                "" if q.facility is None else f"{q.facility:.1f}",
                "" if q.discrimination is None else f"{q.discrimination:.3f}",
                " ".join(f"{o[0]}:{o[2]}" for o in q.options),
            ]
        )
    return buffer.getvalue()


def pass_rate_chart(results: list[tuple[Quiz, QuizStats]]) -> Markup:
    """The share of attempts passed, module by module (withheld groups drawn as no bar)."""
    bars = [
        Bar(
            quiz.module.title,
            None if s.pass_rate is None else s.pass_rate / 100,
            _("meno di 5") if s.withheld else percent_text(s.pass_rate),
        )
        for quiz, s in results
    ]
    return bar_chart(
        bars,
        title=_("Tentativi superati, modulo per modulo"),
        headers=(_("Modulo"), _("Superati")),
    )


def facility_chart(quiz: Quiz, stats: QuizStats) -> Markup:
    """Each question's mean score (the facility index): the hard ones stand out. Nothing
    for a withheld group or a quiz without attempts (the page says why)."""
    if stats.withheld or not stats.attempts:
        return Markup("")
    bars = [
        Bar(
            f"{n}. {_shorten(q.text, 60)}",
            None if q.facility is None else q.facility / 100,
            percent_text(q.facility, 0),
            tone="primary",
        )
        for n, q in enumerate(stats.questions, start=1)
    ]
    return bar_chart(
        bars,
        title=_("Punteggio medio per domanda: %(title)s", title=quiz.module.title),
        headers=(_("Domanda"), _("Punteggio medio")),
    )


def _shorten(text: str, limit: int) -> str:
    """A question's first words for a chart label (its full text is in the table)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def module_quizzes(session: Session, course_id: int) -> list[Quiz]:
    """Latest quiz of each module slug of a course, in the order of the course's modules."""
    latest = (
        select(Quiz.module_slug, func.max(Quiz.version_number).label("v"))
        .where(Quiz.course_id == course_id)
        .group_by(Quiz.module_slug)
        .subquery()
    )
    return list(
        session.scalars(
            select(Quiz)
            .join(
                latest,
                and_(latest.c.module_slug == Quiz.module_slug, latest.c.v == Quiz.version_number),
            )
            .join(Module, Module.id == Quiz.module_id)
            .where(Quiz.course_id == course_id)
            .order_by(Module.position, Quiz.module_slug)
        )
    )
