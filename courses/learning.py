"""Taking courses: catalogue, enrolment, progress, completion, renewal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import String, and_, bindparam, cast, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, contains_eager, defer, joinedload, selectinload

from courses.extensions import COMPLETION_REQUIREMENTS
from courses.format import fenced_blocks, split_blocks
from courses.models import (
    Course,
    CourseCompletion,
    CourseVersion,
    Enrolment,
    EnrolmentSource,
    Module,
    ModuleProgress,
    ProgressStatus,
    VersionStatus,
    version_audience,
)
from courses.signals import LearningChanges, learning_changed, module_completed
from lms import audit, clock, signals
from lms.accounts.models import User
from lms.dates import add_months
from lms.errors import Forbidden, NotFound, ServiceError
from lms.organisations.models import Audience, Membership
from lms.plugins import registry
from lms.signals import CompletionEvent, completion_recorded

# Time spent is estimated from activity: gaps longer than this count as a pause.
MAX_ACTIVITY_GAP = dt.timedelta(minutes=10)


def latest_versions_query():  # noqa: ANN201 - a Select
    """Latest published version of every (non archived) course."""
    latest = (
        select(CourseVersion.course_id, func.max(CourseVersion.number).label("number"))
        .where(CourseVersion.status == VersionStatus.PUBLISHED)
        .group_by(CourseVersion.course_id)
        .subquery()
    )
    return (
        select(CourseVersion)
        .join(
            latest,
            and_(
                latest.c.course_id == CourseVersion.course_id,
                latest.c.number == CourseVersion.number,
            ),
        )
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.archived.is_(False))
    )


# Built once: a statement built per call costs more to construct and to key for
# SQLAlchemy's compiled cache than it costs to run.
_other_version = aliased(CourseVersion)
_PUBLISHED_VERSION = (
    select(CourseVersion)
    .join(Course, Course.id == CourseVersion.course_id)
    .where(
        Course.slug == bindparam("slug"),
        Course.archived.is_(False),
        CourseVersion.status == VersionStatus.PUBLISHED,
        # The highest published number, rather than ORDER BY ... LIMIT 1: with the
        # modules joined, a LIMIT makes SQLAlchemy wrap the version in a subquery that
        # SQLite materialises and sorts whole.
        CourseVersion.number
        == select(func.max(_other_version.number))
        .where(
            _other_version.course_id == CourseVersion.course_id,
            _other_version.status == VersionStatus.PUBLISHED,
        )
        .scalar_subquery(),
    )
    .options(
        contains_eager(CourseVersion.course),
        joinedload(CourseVersion.modules).defer(Module.body_md).defer(Module.body_html),
        # Repeated on every module's row and read by no learner page (loaded if asked).
        defer(CourseVersion.intro_md),
        defer(CourseVersion.content_hash),
        defer(CourseVersion.created_at),
        defer(CourseVersion.published_at),
        defer(CourseVersion.created_by_id),
    )
)


def published_version(session: Session, slug: str) -> CourseVersion:
    """The latest published version of one course, with its course and modules.

    One course's versions only (not the catalogue-wide ``latest_versions_query``),
    the course and the modules joined in (one statement), the modules without their
    bodies: a page reads at most one module's lesson (loaded when accessed), so the
    cost of a page does not grow with the size of the course. Audiences load when a
    page asks.
    """
    version = session.execute(_PUBLISHED_VERSION, {"slug": slug}).unique().scalar_one_or_none()
    if version is None:
        raise NotFound(_("Corso non trovato."))
    return version


def catalogue(
    session: Session, *, audience_code: str | None = None, query: str | None = None
) -> list[CourseVersion]:
    stmt = latest_versions_query().options(selectinload(CourseVersion.audiences))
    if audience_code:
        in_audience = exists().where(
            version_audience.c.version_id == CourseVersion.id,
            version_audience.c.audience_id == Audience.id,
            Audience.code == audience_code,
        )
        stmt = stmt.where(or_(CourseVersion.all_audiences.is_(True), in_audience))
    if query and query.strip():
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(CourseVersion.title).like(pattern),
                func.lower(CourseVersion.summary).like(pattern),
                func.lower(cast(CourseVersion.objectives, String)).like(pattern),
            )
        )
    return list(session.scalars(stmt.order_by(CourseVersion.title)))


def user_audience_codes(session: Session, user_id: int) -> set[str]:
    return set(
        session.scalars(
            select(Audience.code)
            .join(Membership, Membership.audience_id == Audience.id)
            .where(Membership.user_id == user_id, Membership.ended_at.is_(None))
        )
    )


# --- Enrolment ----------------------------------------------------------------------


# The learner's pages ask these on every request: built once, as _PUBLISHED_VERSION.
_ACTIVE_ENROLMENT = select(Enrolment).where(
    Enrolment.user_id == bindparam("user_id"),
    Enrolment.course_id == bindparam("course_id"),
    Enrolment.ended_at.is_(None),
)


_ENROLMENT_AND_MODULE_STATUS = (
    select(Enrolment, ModuleProgress.status)
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


def active_enrolment(session: Session, user_id: int, course_id: int) -> Enrolment | None:
    return session.scalar(_ACTIVE_ENROLMENT, {"user_id": user_id, "course_id": course_id})


def enrol(
    session: Session,
    user: User,
    version: CourseVersion,
    *,
    source: EnrolmentSource,
    by: User | None = None,
) -> Enrolment:
    """Enrol (or re-enrol) a person; history rows are reused, never duplicated."""
    if source is EnrolmentSource.SELF and not version.self_enrolment:
        raise Forbidden(
            _("Per questo corso l'iscrizione è fatta dalla/dal referente della tua organizzazione.")
        )
    enrolment = session.scalar(
        select(Enrolment).where(
            Enrolment.user_id == user.id, Enrolment.course_id == version.course_id
        )
    )
    if enrolment is None:
        enrolment = Enrolment(
            user_id=user.id,
            course_id=version.course_id,
            source=source,
            enrolled_by_id=by.id if by else None,
        )
        session.add(enrolment)
    elif enrolment.ended_at is not None:
        enrolment.ended_at = None
        enrolment.source = source
        enrolment.enrolled_by_id = by.id if by else None
        enrolment.enrolled_at = clock.now()
    else:
        return enrolment
    session.flush()
    _changed(session, user.id, version.course_id)
    return enrolment


def unenrol(session: Session, user_id: int, course_id: int) -> None:
    enrolment = active_enrolment(session, user_id, course_id)
    if enrolment is None:
        raise NotFound(_("Non risulti iscritta/o a questo corso."))
    enrolment.ended_at = clock.now()
    session.flush()
    _changed(session, user_id, course_id)


def _changed(
    session: Session, user_id: int, course_id: int, *, activity_only: bool = False
) -> None:
    """Tell the app's receivers (e.g. commitments' standings) whose learning rows changed."""
    signals.send(
        learning_changed,
        session=session,
        changes=LearningChanges.of(user_id, course_id, activity_only=activity_only),
    )


def enrol_members(
    session: Session,
    organisation_id: int,
    version: CourseVersion,
    user_ids: list[int],
    *,
    by: User,
) -> int:
    """A referent enrols staff of their own organisation; anyone else is refused whole."""
    members = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.organisation_id == organisation_id,
                Membership.ended_at.is_(None),
                Membership.user_id.in_(user_ids),
            )
        )
    )
    strangers = set(user_ids) - members
    if strangers:
        raise Forbidden(_("Puoi iscrivere solo il personale della tua organizzazione."))
    users = session.scalars(select(User).where(User.id.in_(members))).all()
    before = {
        e.user_id
        for e in session.scalars(
            select(Enrolment).where(
                Enrolment.course_id == version.course_id,
                Enrolment.ended_at.is_(None),
                Enrolment.user_id.in_(members),
            )
        )
    }
    for user in users:
        if user.id not in before:
            enrolment = enrol(session, user, version, source=EnrolmentSource.REFERENT, by=by)
            audit.record(
                session,
                "enrolment.by_referent",
                actor=by,
                organisation_id=organisation_id,
                object_type="course",
                object_id=version.course.slug,
                subject_id=user.id,
                details={"enrolment_id": enrolment.id},
            )
    return len(members - before)


# --- Prerequisites and progress -------------------------------------------------------


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


def require_module_access(
    session: Session, user: User, version: CourseVersion, module_slug: str
) -> tuple[Enrolment, str]:
    """``require_access``, and the module's status in the enrolment's cycle read in the
    same statement (``not_started`` without a progress row)."""
    found = session.execute(
        _ENROLMENT_AND_MODULE_STATUS,
        {"user_id": user.id, "course_id": version.course_id, "module_slug": module_slug},
    ).first()
    if found is None:
        raise Forbidden(_("Iscriviti al corso per accedere ai moduli."))
    _require_prerequisites(session, user, version)
    enrolment, status = found
    return enrolment, status if status is not None else "not_started"


def _require_prerequisites(session: Session, user: User, version: CourseVersion) -> None:
    missing = missing_prerequisites(session, user.id, version)
    if missing:
        raise Forbidden(
            _("Prima di questo corso devi completare: %(titles)s.", titles=", ".join(missing))
        )


def find_module(version: CourseVersion, module_slug: str) -> Module:
    for module in version.modules:
        if module.slug == module_slug:
            return module
    raise NotFound(_("Modulo non trovato."))


_LESSON_HTML = select(Module.body_html).where(Module.id == bindparam("module_id"))


def lesson_html(session: Session, module: Module) -> str:
    """The module's lesson, which ``published_version`` leaves deferred: one built
    statement (cheaper than the ORM's deferred-column load)."""
    return session.scalar(_LESSON_HTML, {"module_id": module.id}) or ""


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
            _changed(session, user_id, enrolment.course_id, activity_only=True)
    return row


def record_activity(
    session: Session,
    user: User,
    version: CourseVersion,
    module_slug: str,
    *,
    now: dt.datetime | None = None,
) -> ModuleProgress:
    """A sign of life on a module page: starts it, remembers it for resuming, counts time."""
    now = now or clock.now()
    enrolment = require_access(session, user, version)
    find_module(version, module_slug)
    row = _progress_row(session, user.id, enrolment, module_slug, now)
    gap = now - row.last_seen_at
    if dt.timedelta(0) < gap <= MAX_ACTIVITY_GAP:
        row.time_spent_seconds += int(gap.total_seconds())
    row.last_seen_at = now
    enrolment.last_module_slug = module_slug
    session.flush()
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
    completes only through the block's plugin (``by_block``).

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
                    hours=float(version.estimated_hours),
                    completed_at=now,
                    renewal_months=version.renewal_months,
                ),
            )
    except IntegrityError:  # completed concurrently by another request: recorded once
        return None
    _changed(session, user.id, version.course_id)
    return completion


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


def start_renewal(
    session: Session, user: User, version: CourseVersion, *, now: dt.datetime | None = None
) -> Enrolment:
    """Open a new cycle once the last completion has expired (or is about to)."""
    now = now or clock.now()
    enrolment = require_access(session, user, version)
    completion = completion_for_cycle(session, user.id, version.course_id, enrolment.cycle)
    if completion is None:
        raise ServiceError(_("Il corso non è ancora completato: non c'è nulla da rinnovare."))
    if completion.expires_at is None or completion.expires_at - now > dt.timedelta(days=90):
        raise ServiceError(_("Il rinnovo si apre 90 giorni prima della scadenza."))
    enrolment.cycle += 1
    enrolment.last_module_slug = None
    session.flush()
    return enrolment


def my_courses(session: Session, user_id: int) -> list[tuple[CourseVersion, Enrolment]]:
    enrolments = {
        e.course_id: e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.ended_at.is_(None))
        )
    }
    if not enrolments:
        return []
    versions = session.scalars(
        latest_versions_query()
        .where(CourseVersion.course_id.in_(enrolments))
        .order_by(CourseVersion.title)
    )
    return [(v, enrolments[v.course_id]) for v in versions]
