"""Progress through a course: access, activity, module and course completion, renewal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courses.catalogue import find_module, latest_versions_query
from courses.durations import course_hours
from courses.enrolment import active_enrolment, announce_change
from courses.evidence import evidence_of, minimum_study_seconds
from courses.extensions import COMPLETION_REQUIREMENTS
from courses.format import fenced_blocks, split_blocks
from courses.models import (
    Course,
    CourseCompletion,
    CourseVersion,
    Enrolment,
    Module,
    ModuleProgress,
    ProgressStatus,
)
from courses.signals import module_completed
from courses.study import remaining_message
from lms import clock, signals
from lms.accounts.models import User
from lms.dates import add_months
from lms.errors import Forbidden, ServiceError
from lms.plugins import registry
from lms.signals import CompletionEvent, completion_recorded

# The learner's pages ask this on every request: built once (as catalogue._PUBLISHED_VERSION).
_ENROLMENT_AND_MODULE_STATUS = (
    select(Enrolment, ModuleProgress.status, ModuleProgress.time_spent_seconds)
    .outerjoin(
        ModuleProgress,
        and_(
            ModuleProgress.user_id == Enrolment.user_id,
            ModuleProgress.course_id == Enrolment.course_id,
            ModuleProgress.cycle == Enrolment.cycle,
            ModuleProgress.module_slug == bindparam("module_slug"),
        ),
    )
    .where(
        Enrolment.user_id == bindparam("user_id"),
        Enrolment.course_id == bindparam("course_id"),
        Enrolment.ended_at.is_(None),
    )
)


# --- Access: an active enrolment and the prerequisites -----------------------------------


def missing_prerequisites(session: Session, user_id: int, version: CourseVersion) -> list[str]:
    """Titles of prerequisite courses the person has not completed."""
    if not version.prerequisites:
        return []
    done = set(
        session.scalars(
            select(Course.slug)
            .join(CourseCompletion, CourseCompletion.course_id == Course.id)
            .where(CourseCompletion.user_id == user_id, Course.slug.in_(version.prerequisites))
        )
    )
    missing = [slug for slug in version.prerequisites if slug not in done]
    if not missing:
        return []
    titles = {
        v.course.slug: v.title
        for v in session.scalars(latest_versions_query().where(Course.slug.in_(missing)))
    }
    return [titles.get(slug, slug) for slug in missing]


def require_access(session: Session, user: User, version: CourseVersion) -> Enrolment:
    enrolment = active_enrolment(session, user.id, version.course_id)
    if enrolment is None:
        raise Forbidden(_("Iscriviti al corso per accedere ai moduli."))
    _require_prerequisites(session, user, version)
    return enrolment


@dataclass(frozen=True)
class ModuleAccess:
    """What a module page needs to know of the person's standing in it."""

    enrolment: Enrolment
    status: str  # ``not_started`` without a progress row
    tracked_seconds: int


def open_module(
    session: Session, user: User, version: CourseVersion, module_slug: str
) -> ModuleAccess:
    """``require_access``, and the module's status and tracked time in the enrolment's
    cycle read in the same statement."""
    found = session.execute(
        _ENROLMENT_AND_MODULE_STATUS,
        {"user_id": user.id, "course_id": version.course_id, "module_slug": module_slug},
    ).first()
    if found is None:
        raise Forbidden(_("Iscriviti al corso per accedere ai moduli."))
    _require_prerequisites(session, user, version)
    enrolment, status, tracked = found
    return ModuleAccess(enrolment, status if status is not None else "not_started", tracked or 0)


def require_module_access(
    session: Session, user: User, version: CourseVersion, module_slug: str
) -> tuple[Enrolment, str]:
    """``require_access``, and the module's status in the enrolment's cycle read in the
    same statement (``not_started`` without a progress row)."""
    access = open_module(session, user, version, module_slug)
    return access.enrolment, access.status


def _require_prerequisites(session: Session, user: User, version: CourseVersion) -> None:
    missing = missing_prerequisites(session, user.id, version)
    if missing:
        raise Forbidden(
            _("Prima di questo corso devi completare: %(titles)s.", titles=", ".join(missing))
        )


# --- Activity and completion --------------------------------------------------------


_CYCLE_PROGRESS = select(ModuleProgress).where(
    ModuleProgress.user_id == bindparam("user_id"),
    ModuleProgress.course_id == bindparam("course_id"),
    ModuleProgress.cycle == bindparam("cycle"),
)
_MODULE_PROGRESS = _CYCLE_PROGRESS.where(ModuleProgress.module_slug == bindparam("module_slug"))
_CYCLE_STATUSES = _CYCLE_PROGRESS.with_only_columns(
    ModuleProgress.module_slug, ModuleProgress.status
)
_COMPLETED_SLUGS = _CYCLE_PROGRESS.with_only_columns(ModuleProgress.module_slug).where(
    ModuleProgress.status == ProgressStatus.COMPLETED
)
_COMPLETION_FOR_CYCLE = select(CourseCompletion).where(
    CourseCompletion.user_id == bindparam("user_id"),
    CourseCompletion.course_id == bindparam("course_id"),
    CourseCompletion.cycle == bindparam("cycle"),
)


def _cycle_keys(user_id: int, enrolment: Enrolment, **more: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "course_id": enrolment.course_id,
        "cycle": enrolment.cycle,
        **more,
    }


def _progress_row(
    session: Session, user_id: int, enrolment: Enrolment, module_slug: str, now: dt.datetime
) -> ModuleProgress:
    keys = _cycle_keys(user_id, enrolment, module_slug=module_slug)
    row = session.scalar(_MODULE_PROGRESS, keys)
    if row is None:
        try:
            with session.begin_nested():
                row = ModuleProgress(
                    user_id=user_id,
                    course_id=enrolment.course_id,
                    cycle=enrolment.cycle,
                    module_slug=module_slug,
                    status=ProgressStatus.IN_PROGRESS,
                    started_at=now,
                    last_seen_at=now,
                )
                session.add(row)
        except IntegrityError:  # a concurrent request created it first
            row = session.scalar(_MODULE_PROGRESS, keys)
            assert row is not None
        else:
            announce_change(session, user_id, enrolment.course_id, activity_only=True)
    return row


def complete_module(
    session: Session,
    user: User,
    version: CourseVersion,
    module_slug: str,
    *,
    by_block: bool = False,
    now: dt.datetime | None = None,
    enrolment: Enrolment | None = None,
) -> CourseCompletion | None:
    """Mark a module complete; a module holding a block that decides its completion
    completes only through the block's plugin (``by_block``), and none before its
    minimum study time is tracked (``ServiceError`` saying how many minutes remain).

    ``enrolment``: what ``require_access(session, user, version)`` just returned to the
    caller, if it did (the check is not repeated). Returns the course completion if
    this made the course complete.
    """
    now = now or clock.now()
    if enrolment is None:
        enrolment = require_access(session, user, version)
    module = find_module(version, module_slug)
    if module.completed_by_block and not by_block:
        raise ServiceError(_block_completion_message(module))
    row = _progress_row(session, user.id, enrolment, module_slug, now)
    if row.status != ProgressStatus.COMPLETED:
        # Whoever asks (the button, a quiz passed, a script): only time tracked counts.
        minimum = minimum_study_seconds(version, module)
        if row.time_spent_seconds < minimum:
            raise ServiceError(remaining_message(minimum - row.time_spent_seconds))
        row.status = ProgressStatus.COMPLETED
        row.completed_at = now
        row.completed_version_number = version.number
        signals.send(
            module_completed,
            session=session,
            version=version,
            user_id=user.id,
            course_id=version.course_id,
            module_slug=module_slug,
        )
    row.last_seen_at = now
    enrolment.last_module_slug = module_slug
    session.flush()
    return check_completion(session, user, version, enrolment, now=now)


def _block_completion_message(module: Module) -> str:
    """What the plugin whose block the module holds says about completing it."""
    blocks = fenced_blocks()
    _lesson, cuts = split_blocks(module.body_md, blocks.keys())
    for cut in cuts:
        message = blocks[cut.name].completion_message
        if message is not None:
            return str(message)
    return _("Questo modulo si completa in un altro modo.")


def check_completion(
    session: Session,
    user: User,
    version: CourseVersion,
    enrolment: Enrolment,
    *,
    now: dt.datetime | None = None,
) -> CourseCompletion | None:
    """Record the course completion once, when every required module is complete."""
    now = now or clock.now()
    required = {m.slug for m in version.modules if m.required}
    completed = set(session.scalars(_COMPLETED_SLUGS, _cycle_keys(user.id, enrolment)))
    if not required <= completed:
        return None
    requirements = registry(COMPLETION_REQUIREMENTS)
    if not all(requirement(session, user.id, version) for requirement in requirements):
        return None
    existing = completion_for_cycle(session, user.id, version.course_id, enrolment.cycle)
    if existing is not None:
        return None
    expires = add_months(now, version.renewal_months) if version.renewal_months else None
    completion = CourseCompletion(
        user_id=user.id,
        course_id=version.course_id,
        version_id=version.id,
        cycle=enrolment.cycle,
        completed_at=now,
        expires_at=expires,
        evidence=evidence_of(version).name,
        tracked_seconds=tracked_seconds(session, user.id, version.course_id, enrolment.cycle),
    )
    try:
        with session.begin_nested():
            session.add(completion)
            session.flush()
            signals.send(
                completion_recorded,
                session=session,
                event=CompletionEvent(
                    user_id=user.id,
                    kind="course",
                    key=f"course:{version.course.slug}",
                    completion_ref=f"course-completion:{completion.id}",
                    title=version.title,
                    version_label=version.label or str(version.number),
                    # The profile decides whether hours and credits are printed.
                    hours=(
                        float(course_hours(version))
                        if evidence_of(version).certificate_hours
                        else None
                    ),
                    completed_at=now,
                    renewal_months=version.renewal_months,
                    accreditation=(
                        dict(version.accreditation)
                        if version.accreditation and evidence_of(version).certificate_hours
                        else None
                    ),
                    tracked_seconds=completion.tracked_seconds,
                ),
            )
    except IntegrityError:  # completed concurrently by another request: recorded once
        return None
    announce_change(session, user.id, version.course_id)
    return completion


def study_seconds(
    session: Session, user_id: int, course_id: int, cycle: int, module_slug: str
) -> int:
    """Time tracked on one module in a cycle (0 before the module is opened)."""
    keys = {"user_id": user_id, "course_id": course_id, "cycle": cycle}
    row = session.scalar(_MODULE_PROGRESS, {**keys, "module_slug": module_slug})
    return row.time_spent_seconds if row is not None else 0


def study_remaining_seconds(
    session: Session, user: User, version: CourseVersion, module: Module
) -> int:
    """Tracked seconds the module still needs in the person's cycle (0 when reached)."""
    minimum = minimum_study_seconds(version, module)
    enrolment = active_enrolment(session, user.id, version.course_id)
    if enrolment is None or not minimum:
        return minimum
    studied = study_seconds(session, user.id, version.course_id, enrolment.cycle, module.slug)
    return max(minimum - studied, 0)


def tracked_seconds(session: Session, user_id: int, course_id: int, cycle: int) -> int:
    """Time tracked on all of a cycle's modules."""
    total = session.scalar(
        select(func.coalesce(func.sum(ModuleProgress.time_spent_seconds), 0)).where(
            ModuleProgress.user_id == user_id,
            ModuleProgress.course_id == course_id,
            ModuleProgress.cycle == cycle,
        )
    )
    return int(total or 0)


def completion_for_cycle(
    session: Session, user_id: int, course_id: int, cycle: int
) -> CourseCompletion | None:
    return session.scalar(
        _COMPLETION_FOR_CYCLE, {"user_id": user_id, "course_id": course_id, "cycle": cycle}
    )


@dataclass
class CourseProgress:
    enrolment: Enrolment | None
    modules: dict[str, str] = field(default_factory=dict)  # module slug -> its status
    completion: CourseCompletion | None = None
    required_count: int = 0
    completed_count: int = 0

    @property
    def percent(self) -> int:
        if not self.required_count:
            return 0
        return round(100 * self.completed_count / self.required_count)

    def status_of(self, module_slug: str) -> str:
        return self.modules.get(module_slug, "not_started")


# The active enrolment and its cycle's completion (at most one of each: unique keys).
_ENROLMENT_AND_COMPLETION = (
    select(Enrolment, CourseCompletion)
    .outerjoin(
        CourseCompletion,
        and_(
            CourseCompletion.user_id == Enrolment.user_id,
            CourseCompletion.course_id == Enrolment.course_id,
            CourseCompletion.cycle == Enrolment.cycle,
        ),
    )
    .where(
        Enrolment.user_id == bindparam("user_id"),
        Enrolment.course_id == bindparam("course_id"),
        Enrolment.ended_at.is_(None),
    )
)


def progress_for(
    session: Session,
    user_id: int,
    version: CourseVersion,
    *,
    enrolment: Enrolment | None = None,
) -> CourseProgress:
    """The person's progress; ``enrolment``: their active one, when the caller has it."""
    completion: CourseCompletion | None = None
    if enrolment is None:
        # Enrolment and completion in one statement.
        found = session.execute(
            _ENROLMENT_AND_COMPLETION, {"user_id": user_id, "course_id": version.course_id}
        ).first()
        if found is not None:
            enrolment, completion = found
    else:
        completion = completion_for_cycle(session, user_id, version.course_id, enrolment.cycle)
    if enrolment is None:
        latest = session.scalar(
            select(CourseCompletion)
            .where(
                CourseCompletion.user_id == user_id,
                CourseCompletion.course_id == version.course_id,
            )
            .order_by(CourseCompletion.completed_at.desc())
            .limit(1)
        )
        return CourseProgress(None, completion=latest)
    # Slugs and statuses only: the pages show nothing else of the rows.
    statuses = dict(session.execute(_CYCLE_STATUSES, _cycle_keys(user_id, enrolment)).all())
    required = [m.slug for m in version.modules if m.required]
    done = sum(1 for slug in required if statuses.get(slug) == ProgressStatus.COMPLETED)
    return CourseProgress(enrolment, statuses, completion, len(required), done)


def resume_module(version: CourseVersion, progress: CourseProgress) -> Module | None:
    """Where to continue: the last module visited unless complete, else the first not complete."""
    if progress.enrolment is None or not version.modules:
        return None
    last = progress.enrolment.last_module_slug
    for module in version.modules:
        if module.slug == last and progress.status_of(last) != ProgressStatus.COMPLETED:
            return module
    for module in version.modules:
        if progress.status_of(module.slug) != ProgressStatus.COMPLETED:
            return module
    return version.modules[0]


#: How long before a completion expires its renewal may start (a new cycle).
RENEWAL_WINDOW = dt.timedelta(days=90)


def renewal_opens_at(completion: CourseCompletion) -> dt.datetime | None:
    """When the person may renew ``completion``; None: it never expires, nothing to renew.
    One rule for the renewal view, the course page and the home page."""
    if completion.expires_at is None:
        return None
    return completion.expires_at - RENEWAL_WINDOW


def start_renewal(
    session: Session, user: User, version: CourseVersion, *, now: dt.datetime | None = None
) -> Enrolment:
    """Open a new cycle once the last completion has expired (or is about to)."""
    now = now or clock.now()
    enrolment = require_access(session, user, version)
    completion = completion_for_cycle(session, user.id, version.course_id, enrolment.cycle)
    if completion is None:
        raise ServiceError(_("Il corso non è ancora completato: non c'è nulla da rinnovare."))
    opens = renewal_opens_at(completion)
    if opens is None or now < opens:
        raise ServiceError(_("Il rinnovo si apre 90 giorni prima della scadenza."))
    enrolment.cycle += 1
    enrolment.last_module_slug = None
    session.flush()
    return enrolment
