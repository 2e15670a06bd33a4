"""Time on task: heartbeats from the module page, bounded by the server.

The page pings while the learner is reading; the server credits the time elapsed since
that person's previous credited heartbeat, never more than ``MAX_CREDIT`` and nothing
after a ``PAUSE`` (a resumption, not study). The instant lives in one row per person
(``courses_study_clock``), whatever the tab or module, and moves by a conditional
UPDATE: two tabs, two modules or two workers racing earn real time once, and pings
faster than real time earn nothing extra. A heartbeat carries the page's signed token
(person, course, cycle, module, minimum, issued at), so a script must load the page,
and a page older than ``STALE_AFTER`` must be reloaded. docs/evidence.md, "Time on task".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courses.enrolment import announce_change
from courses.evidence import minimum_study_seconds
from courses.models import (
    CourseVersion,
    Enrolment,
    Module,
    ModuleProgress,
    ProgressStatus,
    StudyClock,
)
from lms import clock
from lms.errors import ServiceError

#: How often the page pings while the learner is active (progress.js says the same).
INTERVAL = dt.timedelta(seconds=30)
#: The most one heartbeat earns: a late ping (a throttled tab) is not a licence.
MAX_CREDIT = dt.timedelta(seconds=2 * INTERVAL.seconds)
#: Beyond this gap the learner was away: the heartbeat restarts the clock, earns nothing.
PAUSE = dt.timedelta(minutes=5)
#: A page older than this must be reloaded before its heartbeats count.
STALE_AFTER = dt.timedelta(hours=4)

_SALT = "courses.study-page"


class HeartbeatRefused(ServiceError):
    """A heartbeat that counts nothing; ``status``: the HTTP status to answer with
    (400: no token or not this page's, 409: the page is stale, 403: no access)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StudyTime:
    """Time tracked on one module in the person's cycle, against the module's minimum."""

    tracked: int
    minimum: int
    #: Seconds the last heartbeat added (0 for a page view).
    credited: int = 0

    @property
    def remaining(self) -> int:
        return max(self.minimum - self.tracked, 0)

    @property
    def reached(self) -> bool:
        return self.tracked >= self.minimum


@dataclass(frozen=True)
class PageGrant:
    """What a verified page token says: whose page, for which module and cycle."""

    user_id: int
    course_id: int
    course_slug: str
    cycle: int
    module_slug: str
    minimum: int
    issued_at: dt.datetime


# --- The page token ------------------------------------------------------------------------


def page_token(
    secret_key: str,
    user_id: int,
    version: CourseVersion,
    module: Module,
    cycle: int,
    *,
    now: dt.datetime | None = None,
) -> str:
    """Signed with the app's secret; the issue time is the platform clock's (not
    itsdangerous' own timestamp, which reads the wall clock)."""
    now = now or clock.now()
    payload = [
        user_id,
        version.course_id,
        version.course.slug,
        cycle,
        module.slug,
        minimum_study_seconds(version, module),
        int(now.timestamp()),
    ]
    return URLSafeSerializer(secret_key, salt=_SALT).dumps(payload)


def _reload() -> HeartbeatRefused:
    # Translated only when refused: a heartbeat's only other string is its status line.
    return HeartbeatRefused(
        _("Ricarica la pagina per continuare a registrare il tempo di studio."), 400
    )


def read_page_token(
    secret_key: str,
    raw: str | None,
    *,
    user_id: int,
    course_slug: str,
    module_slug: str,
    now: dt.datetime | None = None,
) -> PageGrant:
    """The grant of a heartbeat's token, or :class:`HeartbeatRefused` saying why not."""
    now = now or clock.now()
    if not raw:
        raise _reload()
    try:
        payload: Any = URLSafeSerializer(secret_key, salt=_SALT).loads(raw)
    except BadSignature:
        raise _reload() from None
    if not (isinstance(payload, list) and len(payload) == 7):
        raise _reload()
    owner, course_id, slug, cycle, module, minimum, issued = payload
    if owner != user_id or slug != course_slug or module != module_slug:
        raise _reload()
    issued_at = dt.datetime.fromtimestamp(issued, dt.UTC)
    if now - issued_at > STALE_AFTER:
        raise HeartbeatRefused(
            _(
                "Questa pagina è aperta da troppo tempo: ricaricala per continuare "
                "a registrare il tempo di studio."
            ),
            409,
        )
    return PageGrant(user_id, course_id, slug, cycle, module, minimum, issued_at)


# --- Heartbeats ----------------------------------------------------------------------------

# Everything a heartbeat reads, in one statement of plain columns: the enrolment (still
# active, same cycle), the module's progress row and the person's clock. Its writes are
# plain UPDATEs too: the most frequent request builds no ORM objects and runs no flush.
_BEAT_STATE = (
    select(
        Enrolment.id,
        Enrolment.cycle,
        Enrolment.last_module_slug,
        ModuleProgress.id,
        ModuleProgress.time_spent_seconds,
        StudyClock.last_beat_at,
    )
    .outerjoin(
        ModuleProgress,
        and_(
            ModuleProgress.user_id == Enrolment.user_id,
            ModuleProgress.course_id == Enrolment.course_id,
            ModuleProgress.cycle == Enrolment.cycle,
            ModuleProgress.module_slug == bindparam("module_slug"),
        ),
    )
    .outerjoin(StudyClock, StudyClock.user_id == Enrolment.user_id)
    .where(
        Enrolment.user_id == bindparam("user_id"),
        Enrolment.course_id == bindparam("course_id"),
        Enrolment.ended_at.is_(None),
    )
)
_clocks = StudyClock.__table__
_progress = ModuleProgress.__table__
_enrolments = Enrolment.__table__
_MOVE_CLOCK = (
    update(_clocks)
    .where(_clocks.c.user_id == bindparam("person"), _clocks.c.last_beat_at == bindparam("seen"))
    .values(last_beat_at=bindparam("beat"))
)
_ADD_TIME = (
    update(_progress)
    .where(_progress.c.id == bindparam("progress_id"))
    .values(
        time_spent_seconds=_progress.c.time_spent_seconds + bindparam("credit"),
        last_seen_at=bindparam("now"),
    )
)
_RESUME_HERE = (
    update(_enrolments)
    .where(_enrolments.c.id == bindparam("enrolment_id"))
    .values(last_module_slug=bindparam("slug"))
)


def credit_for(elapsed: dt.timedelta) -> int:
    """Whole seconds a heartbeat ``elapsed`` after the previous credited one earns."""
    if elapsed <= dt.timedelta(0) or elapsed > PAUSE:
        return 0
    return int(min(elapsed, MAX_CREDIT).total_seconds())


def heartbeat(session: Session, grant: PageGrant, *, now: dt.datetime | None = None) -> StudyTime:
    """Credit the person's real time since their previous heartbeat to the page's module.

    The clock moves only if nobody moved it since it was read (``WHERE last_beat_at =
    :seen``): of two heartbeats racing, one credits and the other earns nothing.
    """
    now = now or clock.now()
    keys = {
        "user_id": grant.user_id,
        "course_id": grant.course_id,
        "module_slug": grant.module_slug,
    }
    found = session.execute(_BEAT_STATE, keys).first()
    if found is None or found[1] != grant.cycle:
        raise HeartbeatRefused(
            _("Non risulta un'iscrizione a questo corso in questo ciclo: ricarica la pagina."), 403
        )
    enrolment_id, cycle, last_module, progress_id, tracked, seen = found
    if progress_id is None:  # the first heartbeat on the module starts it
        progress_id, tracked = _start_module(session, grant, now)
        announce_change(session, grant.user_id, grant.course_id, activity_only=True)
    if last_module != grant.module_slug:  # resume here
        session.execute(_RESUME_HERE, {"enrolment_id": enrolment_id, "slug": grant.module_slug})
        _forget(session, Enrolment, enrolment_id)
    credit = 0
    if seen is None:
        _start_clock(session, grant.user_id, now)
    else:
        credit = credit_for(now - seen)
        # Within the bounds the clock moves by what was credited, so the fraction of a
        # second left over counts with the next heartbeat; otherwise it restarts now.
        within = dt.timedelta(0) < now - seen <= MAX_CREDIT
        beat = seen + dt.timedelta(seconds=credit) if within else now
        if beat != seen:
            moved = session.execute(
                _MOVE_CLOCK, {"person": grant.user_id, "seen": seen, "beat": beat}
            ).rowcount
            if moved != 1:  # another heartbeat of this person moved it first
                credit = 0
    if credit:
        # Added in SQL, so that a completion written meanwhile keeps its own columns.
        session.execute(_ADD_TIME, {"progress_id": progress_id, "credit": credit, "now": now})
        _forget(session, ModuleProgress, progress_id)
        tracked += credit
    return StudyTime(tracked, grant.minimum, credit)


def _forget(session: Session, model: type[Any], key: int) -> None:
    """Expire the object a plain UPDATE changed, if this session holds it (a service
    calling heartbeats and reading progress in one session; requests never do)."""
    held = session.identity_map.get(session.identity_key(model, key))
    if held is not None:
        session.expire(held)


def _start_module(session: Session, grant: PageGrant, now: dt.datetime) -> tuple[int, int]:
    """The module's progress row, created: its id and tracked seconds."""
    row = ModuleProgress(
        user_id=grant.user_id,
        course_id=grant.course_id,
        cycle=grant.cycle,
        module_slug=grant.module_slug,
        status=ProgressStatus.IN_PROGRESS,
        started_at=now,
        last_seen_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent heartbeat created it first
        found = session.execute(
            select(ModuleProgress.id, ModuleProgress.time_spent_seconds).where(
                ModuleProgress.user_id == grant.user_id,
                ModuleProgress.course_id == grant.course_id,
                ModuleProgress.cycle == grant.cycle,
                ModuleProgress.module_slug == grant.module_slug,
            )
        ).one()
        return found[0], found[1]
    return row.id, 0


def _start_clock(session: Session, user_id: int, now: dt.datetime) -> None:
    try:
        with session.begin_nested():
            session.add(StudyClock(user_id=user_id, last_beat_at=now))
    except IntegrityError:  # a concurrent first heartbeat started it: nothing to credit
        pass


# --- What the pages and the completion rule read --------------------------------------------


def study_time(
    session: Session, user_id: int, version: CourseVersion, module: Module, cycle: int
) -> StudyTime:
    """Tracked and minimum seconds of a module in a cycle."""
    tracked = session.scalar(
        select(ModuleProgress.time_spent_seconds).where(
            ModuleProgress.user_id == user_id,
            ModuleProgress.course_id == version.course_id,
            ModuleProgress.cycle == cycle,
            ModuleProgress.module_slug == module.slug,
        )
    )
    return StudyTime(tracked or 0, minimum_study_seconds(version, module))


def minutes_left(seconds: int) -> int:
    """Whole minutes still to study, rounded up (never "0 minutes" while some remain)."""
    return math.ceil(seconds / 60)


def remaining_message(remaining: int) -> str:
    """Why a module cannot complete yet, in the learner's language."""
    n = minutes_left(remaining)
    return ngettext(
        "Prima di completare il modulo serve ancora %(num)d minuto di studio.",
        "Prima di completare il modulo servono ancora %(num)d minuti di studio.",
        n,
    )


def status_line(time: StudyTime) -> str:
    """The module page's quiet status: time tracked, and what remains if anything."""
    if time.minimum and time.reached:
        return _("Tempo minimo di studio raggiunto")
    tracked = _("Tempo di studio: %(n)d min", n=time.tracked // 60)
    if not time.minimum:
        return tracked
    n = minutes_left(time.remaining)
    left = ngettext("ancora %(num)d minuto di studio", "ancora %(num)d minuti di studio", n)
    return f"{tracked} · {left}"
