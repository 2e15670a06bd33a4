"""Attempts: start, submit (once), expiry, limits, and module completion.

Everything the learner's browser sends is checked against the attempt frozen
on the server (``Attempt.presented``); the correct answers never leave it
before submission.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from courses.api import (
    CourseVersion,
    Enrolment,
    Module,
    ProgressStatus,
    complete_module,
    evidence_of,
    find_module,
    published_version,
    require_access,
    require_module_access,
    split_block,
    study_seconds,
)
from lms import audit, clock
from lms.accounts.models import User
from lms.errors import Forbidden, NotFound, ServiceError
from quizzes.models import Attempt, AttemptAnswer, AttemptChoice, AttemptStatus, Quiz
from quizzes.records import QuizSpec
from quizzes.rules import AttemptRules, fresh_draw, may_go_beyond, refusal, rules_for
from quizzes.scoring import present_attempt, score_attempt
from quizzes.spec import parse_quiz_block
from quizzes.types import InvalidResponse

TIME_LIMIT_GRACE = dt.timedelta(seconds=30)
SUBMITTED_COLUMNS = (
    "status",
    "submitted_at",
    "percent",
    "points_earned",
    "points_available",
    "passed",
    "result",
    "studied_seconds",
)
QUIZ_BLOCK = "quiz"  # the fence name: ```quiz
CHOICE_TYPES = {"single", "multiple", "true_false"}


def build_quizzes(session: Session, version: CourseVersion) -> list[Quiz]:
    """Store the parsed quiz of every module of a just-published version."""
    created = []
    for module in version.modules:
        _lesson, source, line = split_block(module.body_md, QUIZ_BLOCK)
        if source is None:
            continue
        spec = parse_quiz_block(source, file=module.filename, first_line=line)
        quiz = Quiz(
            module_id=module.id,
            course_id=version.course_id,
            module_slug=module.slug,
            version_number=version.number,
            spec=spec.to_dict(),
        )
        session.add(quiz)
        created.append(quiz)
    session.flush()
    return created


# Asked on every quiz page and start: built once, like courses' published_version statement.
_QUIZ_OF_MODULE = select(Quiz).where(Quiz.module_id == bindparam("module_id"))
_CYCLE_ATTEMPTS = (
    select(Attempt)
    .where(
        Attempt.user_id == bindparam("user_id"),
        Attempt.course_id == bindparam("course_id"),
        Attempt.module_slug == bindparam("module_slug"),
        Attempt.cycle == bindparam("cycle"),
    )
    .order_by(Attempt.number)
)


def quiz_of(session: Session, module: Module) -> Quiz:
    quiz = session.scalar(_QUIZ_OF_MODULE, {"module_id": module.id})
    if quiz is None and module.completed_by_block and not module.version.is_draft:
        # Published before this plugin was installed: build its quizzes now, once.
        built = build_quizzes(session, module.version)
        quiz = next((q for q in built if q.module_id == module.id), None)
    if quiz is None:
        raise NotFound(_("Questo modulo non ha un quiz."))
    return quiz


def spec_of(quiz: Quiz) -> QuizSpec:
    return QuizSpec.from_dict(quiz.spec)


def _fraction(value: Decimal | None) -> Fraction:
    return Fraction(str(value)) if value is not None else Fraction(0)


@dataclass
class QuizState:
    quiz: Quiz
    spec: QuizSpec
    attempts: list[Attempt]
    open_attempt: Attempt | None
    completed: bool
    attempts_left: int | None  # None = unlimited
    next_start_at: dt.datetime | None
    blocked_reason: str | None
    enrolment: Enrolment | None = None
    rules: AttemptRules | None = None
    attempts_total: int | None = None  # None = unlimited
    #: The next attempt is beyond the limit: drawn with new questions against these.
    fresh_from: frozenset[str] | None = None
    #: The reason is missing study time: the page links back to the module.
    needs_study: bool = False
    studied_seconds: int = 0

    @property
    def can_start(self) -> bool:
        return self.blocked_reason is None

    @property
    def best(self) -> Attempt | None:
        graded = [a for a in self.attempts if a.status == AttemptStatus.SUBMITTED]
        if not graded:
            return None
        if self.spec.grading == "last":
            return max(graded, key=lambda a: a.number)
        return max(graded, key=lambda a: (a.percent or 0, -a.number))


def _cycle_attempts(
    session: Session, user_id: int, course_id: int, module_slug: str, cycle: int
) -> list[Attempt]:
    keys = {"user_id": user_id, "course_id": course_id, "module_slug": module_slug, "cycle": cycle}
    return list(session.scalars(_CYCLE_ATTEMPTS, keys))


def quiz_state(
    session: Session,
    user: User,
    version: CourseVersion,
    module: Module,
    *,
    now: dt.datetime | None = None,
) -> QuizState:
    """The quiz page's facts and whether a new attempt may start (and why not).

    The course's evidence profile adds its rules to the quiz's own (``quizzes.rules``).
    """
    now = now or clock.now()
    # This module's status only (not the whole course's progress), with the enrolment.
    enrolment, status = require_module_access(session, user, version, module.slug)
    quiz = quiz_of(session, module)
    spec = spec_of(quiz)
    rules = rules_for(evidence_of(version), spec, module.computed_minutes)
    attempts = _cycle_attempts(session, user.id, version.course_id, module.slug, enrolment.cycle)
    open_attempt = next((a for a in attempts if a.status == AttemptStatus.OPEN), None)
    if open_attempt is not None and _expired(open_attempt, now):
        open_attempt.status = AttemptStatus.EXPIRED
        session.flush()
        open_attempt = None
    completed = status == ProgressStatus.COMPLETED
    counted = [a for a in attempts if a.status != AttemptStatus.VOIDED]
    beyond = may_go_beyond(rules, spec)
    total = rules.quiz_attempts if beyond else rules.same_questions
    left = None if total == 0 else max(total - len(counted), 0)
    finished = [a for a in counted if a.status != AttemptStatus.OPEN]
    last = max(finished, key=lambda a: a.number) if finished else None
    fresh_from = None
    if beyond and len(counted) >= rules.same_questions:
        previous = max(counted, key=lambda a: a.number)
        fresh_from = frozenset(q["id"] for q in previous.presented["questions"])
    finished_at = [a.submitted_at or a.started_at for a in finished]
    next_start = (
        max(finished_at) + dt.timedelta(minutes=spec.cooldown_minutes)
        if finished_at and spec.cooldown_minutes
        else None
    )
    studied = study_seconds(session, user.id, version.course_id, enrolment.cycle, module.slug)
    reason = None
    needs_study = False
    if completed:
        reason = _("Hai già superato questo quiz.")
    elif open_attempt is None:
        failed_at = last.studied_seconds if last is not None and not last.passed else None
        reason, needs_study = refusal(rules, spec, left, beyond, failed_at, studied, fresh_from)
        if reason is None and next_start is not None and next_start > now:
            minutes = max(1, int((next_start - now).total_seconds() + 59) // 60)
            reason = ngettext(
                "Puoi riprovare tra %(num)d minuto.", "Puoi riprovare tra %(num)d minuti.", minutes
            )
    return QuizState(
        quiz,
        spec,
        attempts,
        open_attempt,
        completed,
        left,
        next_start,
        reason,
        enrolment,
        rules=rules,
        attempts_total=total or None,
        fresh_from=fresh_from,
        needs_study=needs_study,
        studied_seconds=studied,
    )


def _expired(attempt: Attempt, now: dt.datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + TIME_LIMIT_GRACE


def start_attempt(
    session: Session,
    user: User,
    version: CourseVersion,
    module: Module,
    *,
    now: dt.datetime | None = None,
) -> Attempt:
    """Start (or resume) an attempt, freezing the questions drawn and their order.

    Beyond the evidence profile's limit, the questions are a fresh draw against the
    previous attempt's; under a profile that asks it, questions and options are shuffled.
    """
    now = now or clock.now()
    state = quiz_state(session, user, version, module, now=now)
    if state.open_attempt is not None:
        return state.open_attempt
    if state.blocked_reason:
        raise ServiceError(state.blocked_reason)
    enrolment, rules = state.enrolment, state.rules
    assert enrolment is not None and rules is not None  # quiz_state checked access
    seed = secrets.randbits(31)
    rng = random.Random(seed)
    questions = (
        fresh_draw(state.spec, state.fresh_from, rules.fresh_share, rng)
        if state.fresh_from is not None
        else None
    )
    number = max((a.number for a in state.attempts), default=0) + 1
    deadline = (
        now + dt.timedelta(minutes=state.spec.time_limit_minutes)
        if state.spec.time_limit_minutes
        else None
    )
    attempt = Attempt(
        quiz_id=state.quiz.id,
        user_id=user.id,
        course_id=version.course_id,
        module_slug=module.slug,
        cycle=enrolment.cycle,
        number=number,
        status=AttemptStatus.OPEN,
        seed=seed,
        presented=present_attempt(state.spec, rng, questions=questions, shuffle=rules.shuffle),
        started_at=now,
        deadline_at=deadline,
        studied_seconds=state.studied_seconds,
    )
    try:
        with session.begin_nested():
            session.add(attempt)
    except IntegrityError:  # a concurrent request started one: use it
        existing = session.scalar(
            select(Attempt).where(
                Attempt.user_id == user.id,
                Attempt.course_id == version.course_id,
                Attempt.module_slug == module.slug,
                Attempt.status == AttemptStatus.OPEN,
            )
        )
        if existing is None:
            raise
        return existing
    return attempt


# The attempt with its quiz, module (without the lesson), version and course, which the
# attempt, submit and result pages all read: one statement instead of five.
_WITH_QUIZ_AND_COURSE = (
    joinedload(Attempt.quiz)
    .joinedload(Quiz.module)
    .options(
        defer(Module.body_md),
        defer(Module.body_html),
        joinedload(Module.version).joinedload(CourseVersion.course),
    ),
)


def own_attempt(session: Session, user: User, attempt_id: int) -> Attempt:
    attempt = session.get(Attempt, attempt_id, options=_WITH_QUIZ_AND_COURSE)
    if attempt is None:
        raise NotFound(_("Tentativo non trovato."))
    if attempt.user_id != user.id:
        raise Forbidden(_("Questo tentativo non è tuo."))
    return attempt


# Submit's claim, built once (building it with its eight values cost more than running
# it): the UPDATE that only an open attempt passes, returning what it wrote.
_CLAIM = (
    update(Attempt)
    .where(Attempt.id == bindparam("claim_id"), Attempt.status == AttemptStatus.OPEN)
    .values(
        {
            name: bindparam(f"new_{name}", type_=Attempt.__table__.c[name].type)
            for name in SUBMITTED_COLUMNS
        }
    )
    .returning(*(Attempt.__table__.c[name] for name in SUBMITTED_COLUMNS))
    .execution_options(synchronize_session=False)
)


def submit_attempt(
    session: Session,
    user: User,
    attempt_id: int,
    responses: dict[str, Any],
    *,
    now: dt.datetime | None = None,
) -> Attempt:
    """Score an attempt once. A repeated or concurrent submit returns the first result."""
    now = now or clock.now()
    attempt = own_attempt(session, user, attempt_id)
    if attempt.status == AttemptStatus.SUBMITTED:
        return attempt
    if attempt.status != AttemptStatus.OPEN:
        raise ServiceError(_("Il tentativo è chiuso: iniziane uno nuovo se ti è consentito."))
    if _expired(attempt, now):
        attempt.status = AttemptStatus.EXPIRED
        session.flush()
        raise ServiceError(_("Il tempo a disposizione è scaduto: il tentativo è stato chiuso."))
    version = session.get(CourseVersion, attempt.quiz.module.version_id)
    enrolment = require_access(session, user, version)
    spec = spec_of(attempt.quiz)
    try:
        score = score_attempt(spec, attempt.presented, responses)
    except InvalidResponse as error:
        raise ServiceError(
            _(
                "Risposte non valide (%(problem)s). Ricarica la pagina del quiz.",
                problem=error.message,
            )
        ) from error
    claimed = session.execute(
        _CLAIM,
        {
            "claim_id": attempt.id,
            "new_status": AttemptStatus.SUBMITTED,
            "new_submitted_at": now,
            "new_percent": Decimal(float(score.percent)).quantize(Decimal("0.001")),
            "new_points_earned": Decimal(float(score.points_earned)).quantize(Decimal("0.001")),
            "new_points_available": Decimal(float(score.points_available)).quantize(
                Decimal("0.001")
            ),
            "new_passed": score.passed,
            "new_result": score.to_dict(),
            "new_studied_seconds": study_seconds(
                session, user.id, attempt.course_id, attempt.cycle, attempt.module_slug
            ),
        },
    ).one_or_none()
    if claimed is None:  # another request submitted it first: its result
        session.refresh(attempt, list(SUBMITTED_COLUMNS))
        return attempt
    # Only what the UPDATE wrote, as the database returned it: a full refresh would
    # also expire the relationships.
    for name, value in zip(SUBMITTED_COLUMNS, claimed, strict=True):
        set_committed_value(attempt, name, value)
    answers: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    for question_score in score.per_question:
        question = spec.question(question_score.question_id)
        answers.append(
            {
                "attempt_id": attempt.id,
                "quiz_id": attempt.quiz_id,
                "question_id": question.id,
                "fraction": Decimal(float(question_score.fraction)).quantize(Decimal("0.000001")),
                "points": Decimal(float(question.weight)).quantize(Decimal("0.001")),
                "answered": question_score.response not in (None, [], {}, ""),
            }
        )
        if question.type in CHOICE_TYPES and question_score.response is not None:
            chosen = question_score.response
            if isinstance(chosen, bool):  # true/false: the option ids the statistics count
                chosen = "true" if chosen else "false"
            for option_id in chosen if isinstance(chosen, list) else [chosen]:
                choices.append(
                    {
                        "attempt_id": attempt.id,
                        "quiz_id": attempt.quiz_id,
                        "question_id": question.id,
                        "option_id": str(option_id),
                    }
                )
    # One multi-row INSERT per table (the unit of work would send one per row).
    if answers:
        session.execute(insert(AttemptAnswer), answers)
    if choices:
        session.execute(insert(AttemptChoice), choices)
    if score.passed:
        module = attempt.quiz.module
        current = published_version(session, version.course.slug)
        target = module if module.version_id == current.id else find_module(current, module.slug)
        complete_module(
            session,
            user,
            current,
            target.slug,
            by_block=True,
            now=now,
            enrolment=enrolment if current is version else None,  # access checked above
        )
    return attempt


def attempt_count(session: Session, quiz_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Attempt.id)).where(
                Attempt.quiz_id == quiz_id, Attempt.status == AttemptStatus.SUBMITTED
            )
        )
        or 0
    )


def void_attempts(
    session: Session, user_id: int, course_id: int, module_slug: str, *, actor: User | None = None
) -> int:
    """An administrator reopens a quiz for someone: their attempts stop counting."""
    result = session.execute(
        update(Attempt)
        .where(
            Attempt.user_id == user_id,
            Attempt.course_id == course_id,
            Attempt.module_slug == module_slug,
            Attempt.status.in_(
                [AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED, AttemptStatus.OPEN]
            ),
            Attempt.passed.is_(False),
        )
        .values(status=AttemptStatus.VOIDED)
    )
    count = int(result.rowcount or 0)
    if count:
        audit.record(
            session,
            "quiz.attempts_reset",
            actor=actor,
            object_type="quiz",
            object_id=module_slug,
            subject_id=user_id,
            details={"course_id": course_id, "attempts": count},
        )
    return count
