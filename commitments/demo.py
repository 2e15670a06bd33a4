"""Demo data: the default commitments, demo ones with deadlines relative to today, and
the demo staff's training history played out through the services.

Each person of ``lms.demo`` gets enrolled, studies, takes the quizzes (some fail once),
answers the questionnaire and so completes, at dates in the past: the clock is set to
each moment (``lms.clock.frozen``), so enrolments, progress, attempts, completions and
the certificates issued on completion carry those dates, relative to today on any day.
Only the time tracked on a module (which the module page's heartbeats would write) is
inserted directly, as the tests do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commitments import standing
from commitments.manage.definitions import CommitmentData, load_defaults, save
from commitments.models import Commitment
from courses.api import (
    Course,
    CourseVersion,
    Enrolment,
    EnrolmentSource,
    Module,
    ModuleProgress,
    complete_module,
    enrol,
    minimum_study_seconds,
    published_version,
)
from lms import clock
from lms.accounts.models import User
from lms.demo import PLANS, DemoPerson, all_staff
from lms.organisations.models import Audience
from lms.organisations.services import organisation_by_code

#: The network-wide course every demo person takes first, then their profile's own.
BASE_COURSE = "rete-antiviolenza-milano"
PROFILE_COURSE = {
    "polizia_locale": "polizia-locale-denuncia",
    "triage_asst": "pronto-soccorso-triage",
}
DAY = dt.timedelta(days=1)
THREE_YEARS = dt.timedelta(days=3 * 365 + 1)


@dataclass(frozen=True)
class DemoCommitment:
    code: str
    title: str
    audiences: tuple[str, ...]
    courses: tuple[str, ...]
    deadline_days: int  # from the day of the first ``lms demo``
    org_code: str | None = None


#: Deadlines relative to the day of loading, so that every status shows: one commitment
#: whose deadline has passed ("in ritardo"), two still open (expired, not started...).
DEMO_COMMITMENTS = (
    DemoCommitment(
        "demo-rete-aggiornamento",
        "Aggiornamento sulla Rete antiviolenza (dimostrativo, scadenza passata)",
        ("polizia_locale", "triage_asst"),
        (BASE_COURSE,),
        -30,
    ),
    DemoCommitment(
        "demo-pl-piano-comando",
        "Polizia Locale: piano formativo del comando (dimostrativo)",
        ("polizia_locale",),
        (BASE_COURSE, PROFILE_COURSE["polizia_locale"]),
        150,
        "CDM-PL-NTDM",
    ),
    DemoCommitment(
        "demo-asst-piano-triage",
        "Pronto Soccorso: piano formativo del triage (dimostrativo)",
        ("triage_asst",),
        (BASE_COURSE, PROFILE_COURSE["triage_asst"]),
        150,
        "ASST-NIGUARDA",
    ),
)


def load_demo(session: Session) -> Iterable[str]:
    outcomes = load_defaults(session)
    created = sum(1 for o in outcomes if o.state == "created")
    lines = [f"Impegni formativi predefiniti: {len(outcomes)} ({created} nuovi)."]
    lines.append(_demo_commitments(session))
    lines.append(_staff_history(session))
    return lines


def _demo_commitments(session: Session) -> str:
    created = 0
    for demo in DEMO_COMMITMENTS:
        if session.scalar(select(Commitment.id).where(Commitment.code == demo.code)):
            continue
        audience_ids = list(
            session.scalars(select(Audience.id).where(Audience.code.in_(demo.audiences)))
        )
        course_ids = [
            session.scalar(select(Course.id).where(Course.slug == slug)) for slug in demo.courses
        ]
        if None in course_ids:
            continue  # the starter courses are not installed
        save(
            session,
            CommitmentData(
                code=demo.code,
                title=demo.title,
                audience_ids=audience_ids,
                required_course_ids=[c for c in course_ids if c is not None],
                target_percent=80,
                deadline=clock.today() + demo.deadline_days * DAY,
                organisation_id=(
                    organisation_by_code(session, demo.org_code).id if demo.org_code else None
                ),
                renewal_months=36,
                description="Impegno dimostrativo creato da «lms demo».",
            ),
        )
        created += 1
    return f"Impegni dimostrativi: {len(DEMO_COMMITMENTS)} ({created} nuovi)."


# --- The staff's history ---------------------------------------------------------------


class _Learner:
    """Plays one person's courses through the services, at moments set on the clock."""

    def __init__(self, session: Session, user: User, referent: User | None) -> None:
        self.session, self.user, self.referent = session, user, referent

    def enrol(self, version: CourseVersion, at: dt.datetime) -> None:
        with clock.frozen(at):
            # Without ``by``: nobody is notified (the demo staff have no real mailbox).
            enrol(self.session, self.user, version, source=EnrolmentSource.REFERENT)

    def track(self, version: CourseVersion, module: Module, at: dt.datetime) -> None:
        """The time spent reading the module, as the page's heartbeats would record it;
        then, for a module without a quiz, its completion."""
        with clock.frozen(at):
            self.session.add(
                ModuleProgress(
                    user_id=self.user.id,
                    course_id=version.course_id,
                    cycle=self._cycle(version),
                    module_slug=module.slug,
                    time_spent_seconds=minimum_study_seconds(version, module),
                )
            )
            self.session.flush()
            if not module.completed_by_block:
                complete_module(self.session, self.user, version, module.slug)

    def finish(self, version: CourseVersion, at: dt.datetime, number: int) -> None:
        """Answer the questionnaire, which completes the course (and issues the certificate)."""
        from surveys.api import answer_questionnaire

        answer_questionnaire(self.session, self.user, version.course_id, at, number)

    def _cycle(self, version: CourseVersion) -> int:
        cycle = self.session.scalar(
            select(Enrolment.cycle).where(
                Enrolment.user_id == self.user.id, Enrolment.course_id == version.course_id
            )
        )
        return cycle or 1

    def take_course(
        self,
        version: CourseVersion,
        enrolled_at: dt.datetime,
        done_at: dt.datetime,
        *,
        modules: int | None = None,
        fail_first: bool = False,
        number: int = 0,
    ) -> None:
        """Enrol at ``enrolled_at`` and study the modules evenly until ``done_at``; all of
        them (then the questionnaire) unless ``modules`` says how many. With ``fail_first``
        one quiz is failed once (the last one studied when stopping half way, else one
        chosen by ``number``, so that every quiz has some failures)."""
        from quizzes.api import take_quiz

        self.enrol(version, enrolled_at)
        todo = sorted(version.modules, key=lambda m: m.position)
        if modules is not None:
            todo = todo[:modules]
        fail_index = len(todo) - 1 if modules is not None else number % len(todo)
        step = (done_at - enrolled_at) / (len(todo) + 1)
        for n, module in enumerate(todo):
            at = enrolled_at + step * (n + 1)
            self.track(version, module, at)
            if not module.completed_by_block:
                continue
            if fail_first and n == fail_index:
                take_quiz(self.session, self.user, version, module, at, right=False)
                if modules is not None:
                    return  # stuck on the quiz for now
                at += 2 * DAY
            if not take_quiz(self.session, self.user, version, module, at, right=True):
                return
        if modules is None:
            self.finish(version, done_at, number)


def _staff_history(session: Session) -> str:
    people = all_staff()
    emails = [p.email for p in people]
    started = session.scalar(
        select(func.count(Enrolment.id))
        .join(User, User.id == Enrolment.user_id)
        .where(User.email.in_(emails))
    )
    if started:
        return "Storia formativa del personale dimostrativo: c'è già."
    versions = {
        slug: published_version(session, slug) for slug in (BASE_COURSE, *PROFILE_COURSE.values())
    }
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    referents = {
        plan.org_code: session.scalar(
            select(User).where(User.email == f"referente.{plan.tag}@rete-milano.test")
        )
        for plan in PLANS
    }
    now = clock.now()
    completions = 0
    for number, person in enumerate(people):
        user = users.get(person.email)
        if user is None:
            continue
        learner = _Learner(session, user, referents.get(person.org_code))
        completions += _play(learner, person, versions, now, number)
    # The history was written at moments in the past; the stored standings and validity
    # periods (the coverage trend) are recomputed once, as ``init-db`` would.
    standing.rebuild(session)
    return (
        f"Storia formativa del personale dimostrativo: {len(people)} persone, "
        f"{completions} corsi completati."
    )


def _play(
    learner: _Learner,
    person: DemoPerson,
    versions: dict[str, CourseVersion],
    now: dt.datetime,
    number: int,
) -> int:
    """One person's scenario; returns the courses completed."""
    base, own = versions[BASE_COURSE], versions[PROFILE_COURSE[person.audience]]
    i = person.index
    fail_first = number % 3 == 0
    if person.scenario == "not_enrolled":
        return 0
    if person.scenario == "not_started":
        for version in (base, own):
            learner.enrol(version, now - (10 + 15 * i) * DAY)
        return 0
    if person.scenario == "in_progress":
        start = now - (60 + 12 * i) * DAY
        if i % 2 == 0:  # the base course done, the profile's course half way
            learner.take_course(base, start, start + 20 * DAY, fail_first=fail_first, number=number)
            learner.take_course(
                own, start + 25 * DAY, now - 2 * DAY, modules=2, fail_first=i % 4 == 0
            )
            return 1
        learner.take_course(base, start, now - 3 * DAY, modules=1 + i % 3, fail_first=i % 3 == 1)
        learner.enrol(own, start)
        return 0
    if person.scenario == "complete":
        done = now - (20 + 29 * i) * DAY  # spread over the last 18 months: the trend grows
    elif person.scenario == "expiring":
        # valid for a few more weeks (the base course, done 20 days earlier, decides)
        done = now - THREE_YEARS + (45 + 20 * i) * DAY
    else:  # expired
        done = now - THREE_YEARS - (30 + 45 * i) * DAY
    start = done - 40 * DAY
    learner.take_course(base, start, start + 20 * DAY, fail_first=fail_first, number=number)
    learner.take_course(own, start + 22 * DAY, done, fail_first=number % 4 == 1, number=number)
    return 2
