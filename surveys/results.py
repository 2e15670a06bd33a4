"""What trainers and the coordinator see of the answers: aggregates with small cells hidden.

Every count below :data:`MIN_COUNT` is withheld (``None``, shown as "<5"), whatever the
filter: the number of responses of the filtered group, each question's count, each
score's count. A question's mean is shown only when the question has at least
:data:`MIN_COUNT` answers; comments only when the filtered group has. Comments come in
alphabetical order, never in the order they were sent.

Limits, said plainly: a mean beside withheld score counts can narrow them down, and
two filters that differ by a small group (two periods a month apart) can be subtracted
from each other. The rule is the network's for every aggregate (``commitments``'
coordinator view withholds below 5 too); it hides small groups, it does not make
differencing impossible.
"""

from __future__ import annotations

import codecs
import io
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from courses.api import Course, CourseVersion, can_author, latest_versions_query
from lms.accounts.models import User
from lms.errors import Forbidden
from lms.exports import csv_writer
from lms.organisations.policy import can_view_network
from surveys.models import SurveyAnswer, SurveyResponse
from surveys.questions import SCALE, Question

MIN_COUNT = 5
SMALL = "<5"


def shown(n: int) -> int | None:
    """``n``, or ``None`` when it is too small to show."""
    return n if n >= MIN_COUNT else None


def can_view_results(user: User, course: Course) -> bool:
    """The course's authors (and admins) and the network's coordinator."""
    return can_author(user, course) or can_view_network(user)


def require_results_access(user: User, course: Course) -> None:
    if not can_view_results(user, course):
        raise Forbidden("")


def visible_courses(session: Session, user: User) -> list[CourseVersion]:
    """Latest versions of the courses whose results the person may see."""
    versions = session.scalars(latest_versions_query().order_by(CourseVersion.title))
    return [v for v in versions if can_view_results(user, v.course)]


def version_numbers(session: Session, course_id: int) -> list[int]:
    """The published versions' numbers, newest first (for the filter)."""
    return [
        n
        for n in session.scalars(
            select(CourseVersion.number)
            .where(CourseVersion.course_id == course_id, CourseVersion.number.is_not(None))
            .order_by(CourseVersion.number.desc())
        )
        if n is not None
    ]


def course_title(session: Session, course_id: int) -> str:
    """The title of the course's latest published version, archived or not (results
    stay readable after a course is archived)."""
    title = session.scalar(
        select(CourseVersion.title)
        .where(CourseVersion.course_id == course_id, CourseVersion.number.is_not(None))
        .order_by(CourseVersion.number.desc())
        .limit(1)
    )
    return title or ""


@dataclass(frozen=True)
class Filters:
    version_number: int | None = None
    organisation_type: str | None = None
    month_from: str | None = None  # "YYYY-MM", inclusive
    month_to: str | None = None

    def apply(self, stmt: Select, course_id: int) -> Select:  # type: ignore[type-arg]
        stmt = stmt.where(SurveyResponse.course_id == course_id)
        if self.version_number is not None:
            stmt = stmt.where(SurveyResponse.version_number == self.version_number)
        if self.organisation_type:
            stmt = stmt.where(SurveyResponse.organisation_type == self.organisation_type)
        if self.month_from:
            stmt = stmt.where(SurveyResponse.month >= self.month_from)
        if self.month_to:
            stmt = stmt.where(SurveyResponse.month <= self.month_to)
        return stmt


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    count: int | None  # None: withheld
    mean: Fraction | None
    distribution: tuple[int | None, ...]  # one count per score of the scale


@dataclass
class Results:
    responses: int | None  # None: fewer than MIN_COUNT, everything withheld
    questions: list[QuestionResult] = field(default_factory=list)
    comments: dict[str, list[str]] = field(default_factory=dict)  # question key -> texts


def aggregate(
    session: Session, course_id: int, questions: tuple[Question, ...], filters: Filters
) -> Results:
    total = session.scalar(filters.apply(select(func.count(SurveyResponse.id)), course_id)) or 0
    if total < MIN_COUNT:
        return Results(responses=None)
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    scores = filters.apply(
        select(SurveyAnswer.question_key, SurveyAnswer.score, func.count())
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyAnswer.score.is_not(None))
        .group_by(SurveyAnswer.question_key, SurveyAnswer.score),
        course_id,
    )
    for key, score, n in session.execute(scores):
        counts[key][score] = n
    results = Results(responses=total)
    for question in questions:
        if not question.is_scale:
            continue
        by_score = counts.get(question.key, {})
        n = sum(by_score.values())
        mean = Fraction(sum(s * c for s, c in by_score.items()), n) if n >= MIN_COUNT else None
        results.questions.append(
            QuestionResult(
                question,
                shown(n),
                mean,
                tuple(shown(by_score.get(s, 0)) if n >= MIN_COUNT else None for s in SCALE),
            )
        )
    comment_keys = [q.key for q in questions if not q.is_scale]
    if comment_keys:
        texts = filters.apply(
            select(SurveyAnswer.question_key, SurveyAnswer.comment)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyAnswer.question_key.in_(comment_keys), SurveyAnswer.comment.is_not(None))
            .order_by(SurveyAnswer.question_key, SurveyAnswer.comment),
            course_id,
        )
        for key, text in session.execute(texts):
            results.comments.setdefault(key, []).append(text)
    return results


def mean_text(mean: Fraction | None) -> str:
    return SMALL if mean is None else f"{float(mean):.2f}"


def cell(value: int | None) -> str:
    return SMALL if value is None else str(value)


def results_csv(results: Results, locale: str, headers: list[str]) -> bytes:
    """The aggregates as CSV (UTF-8 with BOM, for spreadsheets), with the same cells withheld."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(headers + [str(s) for s in SCALE])
    if results.responses is None:
        writer.writerow(["", "", SMALL, SMALL] + [SMALL for _ in SCALE])
    for row in results.questions:
        writer.writerow(
            [
                row.question.key,
                row.question.text(locale),
                cell(row.count),
                mean_text(row.mean),
                *[cell(v) for v in row.distribution],
            ]
        )
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
