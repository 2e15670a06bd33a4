"""Synthetic data at Moodle-generator-like sizes, deterministic by seed.

    .venv/bin/python -m bench.seed --size S|M|L [--seed N] [--database-url URL]

Sizes: S = 1,000 staff, M = 10,000, L = 50,000, spread over the ~50 organisations of
the registry; the Polizia Locale (CDM-PL-NTDM) has 5,000 of them at M and L (half of
the staff at S, so it stays the largest). 20 published courses of 6-10 modules, each
module with a quiz (a bank of 8 questions of every type, 5 drawn), are written as
course folders and imported through ``courses.cli.import_path`` (the real importer:
validation, rendering, quiz specs). Everything else is bulk-inserted
(``session.execute(insert(Model), rows)`` in chunks): users, memberships, enrolments,
module progress, quiz attempts, course completions, certificates (signed, when the
certificates plugin is installed) and the commitments of the commitments plugin.

Progress, per (person, course the person's commitment requires): 30 % complete (valid),
20 % expired (completed, ``expires_at`` in the past), 25 % in progress, 15 % enrolled
and not started, 10 % not enrolled; exact quotas after a seeded shuffle. Every
completed module with a quiz has a passed attempt, a quarter of them a failed one
before it. Per-question answer rows (statistics) are not generated.

Same seed, same ``now`` -> same rows (ids included); ``fingerprint`` checks it.
The database must be empty (``--reset`` empties it first: a throwaway one only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench import coursegen
from bench.answers import correct_responses
from bench.common import BENCH_PASSWORD, Timer, fresh_schema, log, make_app, sqlite_url

SIZES = {"S": 1_000, "M": 10_000, "L": 50_000}
BIG_ORG = "CDM-PL-NTDM"
BIG_ORG_STAFF = 5_000
COURSES = 20
PL_COURSES = 10  # the Polizia Locale's commitment: 10 required courses
STATES = (
    ("complete", 30),
    ("expired", 20),
    ("in_progress", 25),
    ("enrolled", 15),
    ("not_enrolled", 10),
)
DOMAIN = "bench.rete-milano.test"
CHUNK = 5_000
ATTEMPT_VARIANTS = 4

FIRST_NAMES = (  # noqa: SIM905
    "Giulia Chiara Francesca Sara Martina Valentina Alessandra Elena Laura Silvia Federica "
    "Paola Anna Maria Roberta Claudia Simona Monica Elisa Ilaria Marco Luca Andrea Matteo "
    "Davide Stefano Alessandro Francesco Giorgio Paolo Lorenzo Riccardo Nicola Fabio Simone "
    "Amina Fatima Ioana Olena Nguyễn Mei Ngozi Zoë Chloé Núria Agnès Bogdan Kateryna Anaïs"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti "
    "DeLuca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani "
    "Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo "
    "Serra Coppola DeSantis D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco "
    "Marini Grasso Valentini Messina Sala DeAngelis Gatti Pellegrini Palumbo Sanna Farina "
    "Rizzi Monti Cattaneo Morelli Amato Silvestri Mazza Testa Grassi Pellegrino"
).split()

# Professional audiences of each organisation (weights), by code or by type.
AUDIENCES_BY_CODE: dict[str, list[tuple[str, int]]] = {
    BIG_ORG: [("polizia_locale", 1)],
    "CDM-UWT": [("servizi_sociali", 9), ("amministrazione", 1)],
    "COMM-TERR": [("commissione_territoriale", 1)],
    "UST-MI": [("scuola", 1)],
    "CIPM": [("lavoro_autori", 1)],
    "ORDINE-AVV": [("avvocati", 1)],
    "AFOL-CPI": [("centri_impiego", 1)],
    "PREFETTURA": [("amministrazione", 1)],
    "ATS-MI": [("sanitario", 3), ("amministrazione", 1)],
}
AUDIENCES_BY_TYPE: dict[str, list[tuple[str, int]]] = {
    "comune": [("servizi_sociali", 2), ("amministrazione", 1)],
    "cav": [("operatrici_cav", 1)],
    "magistratura": [("magistratura", 1)],
    "forze_ordine": [("forze_ordine", 1)],
    "sociosanitario": [("triage_asst", 2), ("sanitario", 3)],
    "altro": [("amministrazione", 1)],
}
# Relative sizes of the organisations (the big one apart).
WEIGHT_BY_CODE = {"UST-MI": 9.0, "CDM-UWT": 6.0, "QUESTURA": 6.0, "CARABINIERI": 6.0}
WEIGHT_BY_TYPE = {
    "comune": 1.5,
    "cav": 1.0,
    "magistratura": 2.5,
    "forze_ordine": 3.0,
    "sociosanitario": 7.0,
    "altro": 2.0,
}


@dataclass
class CourseInfo:
    id: int
    slug: str
    version_id: int
    version_number: int
    title: str
    label: str
    hours: float
    renewal_months: int | None
    modules: list[tuple[str, int | None]]  # (module slug, quiz id or None), in order
    # Tracked seconds each module needs before its quiz or completion (evidence profile).
    minimums: dict[str, int] = field(default_factory=dict)


@dataclass
class SeedReport:
    size: str
    seed: int
    staff: int
    database_url: str
    instance: str
    now: dt.datetime
    big_organisation_id: int
    big_organisation_staff: int
    referent_email: str
    coordinator_email: str
    admin_email: str
    learner_emails: list[str]
    course_slugs: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    pair_states: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    password: str = BENCH_PASSWORD

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["now"] = self.now.isoformat()
        return data


# --- Helpers ---------------------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    import calendar

    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def bulk_insert(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    for part in chunks(rows):
        session.execute(insert(model), part)


def weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _w in choices], weights=[w for _c, w in choices])[0]


def staff_per_organisation(
    rng: random.Random, organisations: list[Any], total: int
) -> dict[int, int]:
    """Headcount per organisation id; the big one gets its share, always the largest."""
    big = next(o for o in organisations if o.code == BIG_ORG)
    big_staff = min(BIG_ORG_STAFF, total // 2)
    others = [o for o in organisations if o.code != BIG_ORG]
    weights = [
        WEIGHT_BY_CODE.get(o.code, WEIGHT_BY_TYPE.get(o.type, 1.0)) * rng.uniform(0.7, 1.3)
        for o in others
    ]
    rest = total - big_staff
    scale = rest / sum(weights)
    floor = 1 if rest >= 3 * len(others) else 0  # tiny sizes: some organisations stay empty
    counts = {o.id: max(floor, int(w * scale)) for o, w in zip(others, weights, strict=True)}
    cap = big_staff - 1
    for org_id in counts:
        counts[org_id] = min(counts[org_id], cap)
    # Hand out what rounding (and capping) left, largest remainders first, round robin.
    short = rest - sum(counts.values())
    order = sorted(counts, key=lambda k: -counts[k])
    i = 0
    while short > 0:
        org_id = order[i % len(order)]
        if counts[org_id] < cap:
            counts[org_id] += 1
            short -= 1
        i += 1
    counts[big.id] = big_staff
    return counts


def audiences_for(org: Any) -> list[tuple[str, int]]:
    return AUDIENCES_BY_CODE.get(org.code) or AUDIENCES_BY_TYPE[org.type]


def required_courses(
    audience: str, courses: list[CourseInfo], audience_index: dict[str, int]
) -> list[CourseInfo]:
    """What the person's commitment requires: 10 courses for the Polizia Locale, else 2."""
    if audience == "polizia_locale":
        return courses[:PL_COURSES]
    specialised = PL_COURSES + audience_index[audience] % (len(courses) - PL_COURSES)
    return [courses[0], courses[specialised]]


# --- Courses ---------------------------------------------------------------------------------


def import_courses(
    app: Any, rng: random.Random, workdir: Path, count: int = COURSES
) -> list[CourseInfo]:
    from sqlalchemy import select

    from courses.catalogue import latest_versions_query
    from courses.cli import import_path
    from courses.durations import course_hours
    from courses.evidence import minimum_study_seconds
    from courses.models import Course, CourseVersion
    from lms import db

    root = workdir / "courses"
    slugs = coursegen.write_catalogue(root, rng, count)
    with app.app_context():
        import_path(root, publish=True)
        db.session.commit()
        quizzes: dict[int, int] = {}
        if app.extensions["lms"].plugin("quizzes") is not None:
            from quizzes.models import Quiz

            quizzes = dict(db.session.execute(select(Quiz.module_id, Quiz.id)).all())
        infos = []
        for slug in slugs:
            version = db.session.scalar(latest_versions_query().where(Course.slug == slug))
            assert isinstance(version, CourseVersion)
            infos.append(
                CourseInfo(
                    id=version.course_id,
                    slug=slug,
                    version_id=version.id,
                    version_number=int(version.number or 1),
                    title=version.title,
                    label=version.label or str(version.number),
                    hours=float(course_hours(version)),
                    renewal_months=version.renewal_months,
                    modules=[(m.slug, quizzes.get(m.id)) for m in version.modules],
                    minimums={m.slug: minimum_study_seconds(version, m) for m in version.modules},
                )
            )
    return infos


def attempt_variants(app: Any, courses: list[CourseInfo]) -> dict[int, list[dict[str, Any]]]:
    """Per quiz, a few real presentations with a passing and a failing result."""
    from lms import db

    if app.extensions["lms"].plugin("quizzes") is None:
        return {}
    from quizzes.attempts import spec_of
    from quizzes.models import Quiz
    from quizzes.scoring import present_attempt, score_attempt

    variants: dict[int, list[dict[str, Any]]] = {}
    with app.app_context():
        for course in courses:
            for _slug, quiz_id in course.modules:
                if quiz_id is None:
                    continue
                spec = spec_of(db.session.get(Quiz, quiz_id))
                found = []
                for n in range(ATTEMPT_VARIANTS):
                    seed = quiz_id * 100 + n
                    presented = present_attempt(spec, random.Random(seed))
                    passed = score_attempt(spec, presented, correct_responses(spec, presented))
                    failed = score_attempt(spec, presented, {})
                    found.append(
                        {
                            "seed": seed,
                            "presented": presented,
                            "pass": _score_columns(passed),
                            "fail": _score_columns(failed),
                        }
                    )
                variants[quiz_id] = found
    return variants


def _score_columns(score: Any) -> dict[str, Any]:
    return {
        "percent": Decimal(float(score.percent)).quantize(Decimal("0.001")),
        "points_earned": Decimal(float(score.points_earned)).quantize(Decimal("0.001")),
        "points_available": Decimal(float(score.points_available)).quantize(Decimal("0.001")),
        "passed": score.passed,
        "result": score.to_dict(),
    }


# --- Commitments -----------------------------------------------------------------------------


def create_commitments(
    app: Any,
    courses: list[CourseInfo],
    big_org_id: int,
    audience_ids: dict[str, int],
    now: dt.datetime,
) -> int:
    if app.extensions["lms"].plugin("commitments") is None:
        return 0
    from commitments.manage.definitions import CommitmentData, save
    from lms import db

    deadline = (now + dt.timedelta(days=365)).date()
    index = {code: n for n, code in enumerate(sorted(audience_ids))}
    created = 0
    with app.app_context():
        save(
            db.session,
            CommitmentData(
                code="bench-polizia-locale",
                title="Polizia Locale: 10 corsi obbligatori",
                audience_ids=[audience_ids["polizia_locale"]],
                required_course_ids=[c.id for c in courses[:PL_COURSES]],
                target_percent=80,
                deadline=deadline,
                organisation_id=big_org_id,
            ),
        )
        created += 1
        for code in sorted(audience_ids):
            if code == "polizia_locale":
                continue
            chosen = required_courses(code, courses, index)
            save(
                db.session,
                CommitmentData(
                    code=f"bench-{code.replace('_', '-')}",
                    title=f"Percorso comune e specialistico: {code}",
                    audience_ids=[audience_ids[code]],
                    required_course_ids=[c.id for c in chosen],
                    target_percent=80,
                    deadline=deadline,
                ),
            )
            created += 1
        db.session.commit()
    return created


# --- The people and their progress -----------------------------------------------------------


class Ids:
    """Explicit primary keys, so that rows can refer to each other before insertion."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


@dataclass
class Rows:
    users: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    enrolments: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    completions: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)


class Generator:
    def __init__(
        self,
        rng: random.Random,
        now: dt.datetime,
        courses: list[CourseInfo],
        variants: dict[int, list[dict[str, Any]]],
        password_hash: str,
    ) -> None:
        self.rng = rng
        self.now = now
        self.courses = courses
        self.variants = variants
        self.password_hash = password_hash
        self.ids = Ids()
        self.rows = Rows()
        self.user_names: dict[int, str] = {}
        self.user_org: dict[int, int] = {}
        self.pending_certificates: list[
            tuple[int, int, CourseInfo, dt.datetime, dt.datetime | None]
        ] = []

    def days_ago(self, low: float, high: float) -> dt.datetime:
        seconds = self.rng.uniform(low, high) * 86400
        return self.now - dt.timedelta(seconds=int(seconds))

    def user(
        self,
        email: str,
        name: str,
        org_id: int | None,
        audience_id: int | None,
        *,
        referent: bool = False,
    ) -> int:
        user_id = self.ids("user")
        created = self.days_ago(2000, 2200)
        self.rows.users.append(
            {
                "id": user_id,
                "email": email,
                "full_name": name,
                "password_hash": self.password_hash,
                "locale": "it",
                "active": True,
                "session_token": f"{self.rng.getrandbits(128):032x}",
                "created_at": created,
            }
        )
        self.user_names[user_id] = name
        if org_id is not None and audience_id is not None:
            self.user_org[user_id] = org_id
            self.rows.memberships.append(
                {
                    "id": self.ids("membership"),
                    "user_id": user_id,
                    "organisation_id": org_id,
                    "audience_id": audience_id,
                    "is_referent": referent,
                    "created_at": created,
                }
            )
        return user_id

    def role(self, user_id: int, role: str) -> None:
        self.rows.roles.append(
            {"id": self.ids("role"), "user_id": user_id, "role": role, "granted_at": self.now}
        )

    def enrol(
        self, user_id: int, course: CourseInfo, at: dt.datetime, source: str, last: str | None
    ) -> None:
        self.rows.enrolments.append(
            {
                "id": self.ids("enrolment"),
                "user_id": user_id,
                "course_id": course.id,
                "source": source,
                "cycle": 1,
                "enrolled_at": at,
                "last_module_slug": last,
            }
        )

    def module_done(
        self,
        user_id: int,
        course: CourseInfo,
        slug: str,
        quiz_id: int | None,
        start: dt.datetime,
        end: dt.datetime,
    ) -> None:
        self.rows.progress.append(
            {
                "id": self.ids("progress"),
                "user_id": user_id,
                "course_id": course.id,
                "cycle": 1,
                "module_slug": slug,
                "status": "completed",
                "started_at": start,
                "last_seen_at": end,
                "completed_at": end,
                "completed_version_number": course.version_number,
                # No module completes before its minimum study time (courses.progress).
                "time_spent_seconds": max(self.rng.randint(600, 2700), course.minimums[slug]),
            }
        )
        if quiz_id is None or quiz_id not in self.variants:
            return
        number = 1
        if self.rng.random() < 0.25:
            self.attempt(user_id, course, slug, quiz_id, number, start, passed=False)
            number += 1
        self.attempt(user_id, course, slug, quiz_id, number, end, passed=True)

    def attempt(
        self,
        user_id: int,
        course: CourseInfo,
        slug: str,
        quiz_id: int,
        number: int,
        at: dt.datetime,
        *,
        passed: bool,
    ) -> None:
        variant = self.rng.choice(self.variants[quiz_id])
        score = variant["pass" if passed else "fail"]
        self.rows.attempts.append(
            {
                "id": self.ids("attempt"),
                "quiz_id": quiz_id,
                "user_id": user_id,
                "course_id": course.id,
                "module_slug": slug,
                "cycle": 1,
                "number": number,
                "status": "submitted",
                "seed": variant["seed"],
                "presented": variant["presented"],
                "started_at": at - dt.timedelta(minutes=6),
                "submitted_at": at,
                **score,
            }
        )

    def module_started(self, user_id: int, course: CourseInfo, slug: str, at: dt.datetime) -> None:
        self.rows.progress.append(
            {
                "id": self.ids("progress"),
                "user_id": user_id,
                "course_id": course.id,
                "cycle": 1,
                "module_slug": slug,
                "status": "in_progress",
                "started_at": at,
                "last_seen_at": at + dt.timedelta(minutes=12),
                "time_spent_seconds": 720,
            }
        )

    def module_read(self, user_id: int, course: CourseInfo, slug: str, at: dt.datetime) -> None:
        """Started and read for the module's minimum time: its quiz may start."""
        seconds = course.minimums[slug]
        self.rows.progress.append(
            {
                "id": self.ids("progress"),
                "user_id": user_id,
                "course_id": course.id,
                "cycle": 1,
                "module_slug": slug,
                "status": "in_progress",
                "started_at": at,
                "last_seen_at": at + dt.timedelta(seconds=seconds),
                "time_spent_seconds": seconds,
            }
        )

    def progress(self, user_id: int, course: CourseInfo, state: str) -> None:
        """One (person, course) pair in one of the ``STATES``."""
        modules = course.modules
        if state == "not_enrolled":
            return
        if state == "enrolled":
            self.enrol(user_id, course, self.days_ago(1, 200), "self", None)
            return
        if state == "in_progress":
            enrolled = self.days_ago(20, 300)
            done = self.rng.randint(1, len(modules) - 1)
            moment = enrolled
            for slug, quiz_id in modules[:done]:
                end = moment + dt.timedelta(hours=self.rng.uniform(1, 72))
                self.module_done(user_id, course, slug, quiz_id, moment, end)
                moment = end
            self.module_started(user_id, course, modules[done][0], moment)
            self.enrol(user_id, course, enrolled, "self", modules[done][0])
            return
        # complete (valid) or expired
        renewal = course.renewal_months or 24
        if state == "complete":
            completed = self.days_ago(10, renewal * 30 - 40)
        else:
            completed = self.days_ago(renewal * 31 + 10, renewal * 31 + 500)
        enrolled = completed - dt.timedelta(days=self.rng.uniform(3, 60))
        step = (completed - enrolled) / len(modules)
        for n, (slug, quiz_id) in enumerate(modules):
            self.module_done(
                user_id, course, slug, quiz_id, enrolled + step * n, enrolled + step * (n + 1)
            )
        self.enrol(user_id, course, enrolled, "self", modules[-1][0])
        expires = add_months(completed, course.renewal_months) if course.renewal_months else None
        completion_id = self.ids("completion")
        self.rows.completions.append(
            {
                "id": completion_id,
                "user_id": user_id,
                "course_id": course.id,
                "version_id": course.version_id,
                "cycle": 1,
                "completed_at": completed,
                "expires_at": expires,
            }
        )
        self.pending_certificates.append((completion_id, user_id, course, completed, expires))


def certificate_rows(
    gen: Generator, app: Any, organisations: dict[int, Any]
) -> list[dict[str, Any]]:
    """Signed certificate rows, as ``certificates.issuing.issue`` would write them."""
    from certificates import codes, keys, signing
    from certificates.config import issuer_settings
    from certificates.issuing import payload_of
    from lms import db

    settings = issuer_settings(app)
    key = keys.signing_key(db.session, settings.secret_key)
    db.session.commit()  # the installation's first key, if the seed made none yet
    rows = []
    alphabet = codes.ALPHABET
    for completion_id, user_id, course, completed, expires in gen.pending_certificates:
        cert_id = gen.ids("certificate")
        org = organisations.get(gen.user_org.get(user_id, 0))
        cert = SimpleNamespace(
            serial=codes.serial_for(settings.serial_prefix, completed.year, cert_id),
            code="".join(gen.rng.choice(alphabet) for _ in range(codes.CODE_LENGTH)),
            holder_name=gen.user_names[user_id],
            organisation_name=org.name if org else None,
            kind="course",
            title=course.title,
            version_label=course.label,
            hours=course.hours,
            hours_printed=True,
            credits=None,
            tracked_seconds=None,
            accreditation=None,
            completed_at=completed,
            issued_at=completed,
            expires_at=expires,
            issuer=settings.issuer,
        )
        payload = payload_of(cert, key.key_id)  # type: ignore[arg-type]
        rows.append(
            {
                "id": cert_id,
                "user_id": user_id,
                "organisation_id": org.id if org else None,
                "kind": "course",
                "key": f"course:{course.slug}",
                "completion_ref": f"course-completion:{completion_id}",
                "reissue": 0,
                "payload": payload.decode("utf-8"),
                "signature": signing.sign(payload, key),
                "key_id": key.key_id,
                **{k: v for k, v in cert.__dict__.items()},
            }
        )
    return rows


# --- The whole seed --------------------------------------------------------------------------


def _no_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _reset_sequences(session: Any, tables: Iterable[str]) -> None:
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )


def seed(
    size: str = "S",
    seed_value: int = 1,
    *,
    database_url: str | None = None,
    instance: Path | None = None,
    now: dt.datetime | None = None,
    staff: int | None = None,
    learners: int = 48,
    course_count: int = COURSES,
    reset: bool = False,
) -> SeedReport:
    """Create the whole data set; returns what the benchmarks need to find their way in."""
    from sqlalchemy import func, select, text
    from werkzeug.security import generate_password_hash

    from courses.models import CourseCompletion, Enrolment, ModuleProgress
    from courses.signals import LearningChanges, learning_changed
    from lms import db, signals
    from lms.accounts.models import User, UserRole
    from lms.organisations.models import Audience, Membership, Organisation

    total_timer = Timer()
    staff = staff or SIZES[size]
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    instance = instance or Path(tempfile.mkdtemp(prefix=f"lms-bench-{size}-"))
    instance.mkdir(parents=True, exist_ok=True)
    url = database_url or sqlite_url(instance)
    app = make_app(instance, url)
    seconds: dict[str, float] = {}

    timer = Timer()
    engine = app.extensions["lms"].engine
    if not reset:
        from sqlalchemy import inspect

        if inspect(engine).has_table("lms_user"):
            with engine.connect() as connection:
                if connection.execute(text("SELECT COUNT(*) FROM lms_user")).scalar():
                    raise SystemExit(
                        f"{url} already holds users: seed an empty database (or --reset)"
                    )
    fresh_schema(app)
    seconds["schema"] = timer.seconds

    rng = random.Random(seed_value)
    timer = Timer()
    if course_count <= PL_COURSES:
        raise ValueError(f"at least {PL_COURSES + 1} courses")
    courses = import_courses(app, random.Random(rng.random()), instance, course_count)
    seconds["courses_import"] = timer.seconds
    timer = Timer()
    variants = attempt_variants(app, courses)

    with app.app_context():
        organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.code)))
        by_code = {o.code: o for o in organisations}
        audience_ids = dict(db.session.execute(select(Audience.code, Audience.id)).all())
    audience_index = {code: n for n, code in enumerate(sorted(audience_ids))}
    big = by_code[BIG_ORG]
    counts = staff_per_organisation(rng, organisations, staff)

    password_hash = generate_password_hash(BENCH_PASSWORD)
    gen = Generator(rng, now, courses, variants, password_hash)

    # Staff: organisations in code order, people shuffled so ids interleave organisations.
    slots = [org for org in organisations for _ in range(counts[org.id])]
    rng.shuffle(slots)
    people: list[tuple[int, str]] = []
    for n, org in enumerate(slots):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        audience = weighted(rng, audiences_for(org))
        email = f"{ascii_slug(first)}.{ascii_slug(last)}.{n + 1}@{DOMAIN}"
        user_id = gen.user(email, f"{first} {last}", org.id, audience_ids[audience])
        people.append((user_id, audience))

    # Progress: exact quotas over every (person, required course) pair.
    pairs = [
        (user_id, course)
        for user_id, audience in people
        for course in required_courses(audience, courses, audience_index)
    ]
    order = list(range(len(pairs)))
    rng.shuffle(order)
    states: list[str] = [""] * len(pairs)
    start = 0
    for n, (state, share) in enumerate(STATES):
        end = len(pairs) if n == len(STATES) - 1 else start + round(len(pairs) * share / 100)
        for index in order[start:end]:
            states[index] = state
        start = end
    for (user_id, course), state in zip(pairs, states, strict=True):
        gen.progress(user_id, course, state)
    pair_states = {state: states.count(state) for state, _share in STATES}

    # The accounts the benchmarks log in with.
    adi = by_code["CDM-ADI"]
    referent_email = f"referente.bench@{DOMAIN}"
    gen.user(
        referent_email, "Referente Bench", big.id, audience_ids["amministrazione"], referent=True
    )
    coordinator_email = f"coordinamento.bench@{DOMAIN}"
    gen.role(
        gen.user(coordinator_email, "Coordinamento Bench", adi.id, audience_ids["amministrazione"]),
        "coordinator",
    )
    admin_email = f"admin.bench@{DOMAIN}"
    gen.role(gen.user(admin_email, "Amministrazione Bench", None, None), "admin")
    learner_emails = []
    learner_org = by_code["CDM-DELEGATA-PO"]
    for n in range(learners):
        email = f"apprendente.{n:02d}@{DOMAIN}"
        learner_emails.append(email)
        user_id = gen.user(
            email, f"Apprendente Bench {n:02d}", learner_org.id, audience_ids["amministrazione"]
        )
        for course in courses:
            if n == 0 and course is courses[0]:
                # Half way through the first course: the course and module pages' learner.
                half = len(course.modules) // 2
                enrolled = gen.days_ago(20, 30)
                for slug, quiz_id in course.modules[:half]:
                    gen.module_done(
                        user_id, course, slug, quiz_id, enrolled, enrolled + dt.timedelta(hours=2)
                    )
                gen.module_started(user_id, course, course.modules[half][0], enrolled)
                gen.enrol(user_id, course, enrolled, "self", course.modules[half][0])
            else:
                enrolled = gen.days_ago(1, 10)
                gen.enrol(user_id, course, enrolled, "self", None)
                # The quiz benches start these learners' quizzes: they have read the
                # modules for the time the course's evidence profile asks first.
                for slug, quiz_id in course.modules:
                    if quiz_id is not None:
                        gen.module_read(user_id, course, slug, enrolled)
    seconds["generate"] = timer.seconds

    timer = Timer()
    has_certificates = app.extensions["lms"].plugin("certificates") is not None
    with app.app_context():
        gen.rows.certificates = (
            certificate_rows(gen, app, {o.id: o for o in organisations}) if has_certificates else []
        )
    seconds["sign_certificates"] = timer.seconds

    timer = Timer()
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (User, gen.rows.users),
        (UserRole, gen.rows.roles),
        (Membership, gen.rows.memberships),
        (Enrolment, gen.rows.enrolments),
        (ModuleProgress, gen.rows.progress),
        (CourseCompletion, gen.rows.completions),
    ]
    if variants:
        from quizzes.models import Attempt

        tables.append((Attempt, gen.rows.attempts))
    if has_certificates:
        from certificates.models import Certificate

        tables.append((Certificate, gen.rows.certificates))
    inserted: dict[str, int] = {}
    if engine.dialect.name == "sqlite":  # a throwaway database: no fsync while loading
        from sqlalchemy import event

        event.listen(engine, "connect", _no_sync)
        engine.dispose()
    with app.app_context():
        for model, rows in tables:
            table_timer, cpu = Timer(), time.process_time()
            bulk_insert(db.session, model, rows)
            inserted[model.__tablename__] = len(rows)
            if os.environ.get("BENCH_SEED_VERBOSE"):
                log(
                    f"  {model.__tablename__}: {len(rows)} rows in {table_timer.seconds:.1f} s"
                    f" ({time.process_time() - cpu:.1f} s CPU)"
                )
        _reset_sequences(db.session, [model.__tablename__ for model, _rows in tables])
        # Learning rows loaded around courses' services: announced, as any loader must,
        # so that derived data (commitments' standings) is rebuilt before the commit.
        signals.send(learning_changed, session=db.session, changes=LearningChanges(everyone=True))
        db.session.commit()
    seconds["insert"] = timer.seconds

    timer = Timer()
    create_commitments(app, courses, big.id, audience_ids, now)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    seconds["commitments_analyze"] = timer.seconds

    with app.app_context():
        big_staff = db.session.scalar(
            select(func.count(Membership.id)).where(Membership.organisation_id == big.id)
        )
    engine.dispose()
    seconds["total"] = total_timer.seconds
    report = SeedReport(
        size=size,
        seed=seed_value,
        staff=staff,
        database_url=url,
        instance=str(instance),
        now=now,
        big_organisation_id=big.id,
        big_organisation_staff=int(big_staff or 0),
        referent_email=referent_email,
        coordinator_email=coordinator_email,
        admin_email=admin_email,
        learner_emails=learner_emails,
        course_slugs=[c.slug for c in courses],
        counts=inserted,
        pair_states=pair_states,
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )
    (instance / "bench-seed.json").write_text(json.dumps(report.to_json(), indent=2))
    return report


# --- Determinism -----------------------------------------------------------------------------

FINGERPRINT_EXCLUDE = {
    "lms_user": {"password_hash"},  # salted: differs per run by design
    "certificates_certificate": {"payload", "signature", "key_id"},  # the key is per instance
}
FINGERPRINT_TABLES = (
    "lms_user",
    "lms_membership",
    "courses_enrolment",
    "courses_module_progress",
    "courses_completion",
    "quizzes_attempt",
    "certificates_certificate",
)


def fingerprint(database_url: str) -> dict[str, str]:
    """SHA-256 per generated table, over every row in id order (salted columns excluded)."""
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(database_url)
    metadata = MetaData()
    result = {}
    with engine.connect() as connection:
        metadata.reflect(connection, only=lambda name, _m: name in FINGERPRINT_TABLES)
        for name in FINGERPRINT_TABLES:
            if name not in metadata.tables:
                continue
            table = metadata.tables[name]
            columns = [c for c in table.columns if c.name not in FINGERPRINT_EXCLUDE.get(name, ())]
            digest = hashlib.sha256()
            for row in connection.execute(select(*columns).order_by(table.c.id)):
                digest.update(repr(tuple(row)).encode())
            result[name] = digest.hexdigest()
    engine.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LMS_DATABASE_URL"),
        help="default: LMS_DATABASE_URL, else a SQLite file in the instance folder",
    )
    parser.add_argument("--instance", type=Path, help="default: a new temp folder")
    parser.add_argument("--reset", action="store_true", help="empty the database first")
    args = parser.parse_args(argv)
    report = seed(
        args.size,
        args.seed,
        database_url=args.database_url,
        instance=args.instance,
        reset=args.reset,
    )
    log(f"seeded size {report.size} ({report.staff} staff) in {report.seconds['total']:.1f} s")
    for name, value in report.seconds.items():
        print(f"  {name:<22} {value:8.2f} s")
    for name, value in report.counts.items():
        print(f"  {name:<28} {value:>10,}")
    print(f"  database: {report.database_url}")
    print(f"  instance: {report.instance}")


if __name__ == "__main__":
    main()
