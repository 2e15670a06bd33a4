"""SIGKILL in the middle of a course import and of certificate issuing (issue 8 §5).

Each command runs as a real ``lms`` subprocess against a database of its own.
A first run goes to the end and shows when its write transaction is open;
a second run, on an identical preparation, is killed once 60% of that write
phase has passed since its own transaction opened, right after the database
confirmed that the transaction is still open (if the run ends first, another
one is aimed earlier). The database must then hold either nothing of the run
or all of it (compared table by table with the complete run), pass its own
integrity checks, and take the same command again to the end.

There is no command that only issues certificates: they are issued with the
completions they certify. ``lms live_sessions import-attendance`` records a
sign-in sheet in one transaction, and every "presente" in it is a completion
certified there, so it is the command that issues many certificates at once.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from bench import coursegen
from certificates import keys, signing
from certificates.documents import certificate_pdf
from certificates.models import Certificate
from certificates.verification import Outcome, check_payload, check_pdf, find_by_code
from courses.models import Course, CourseVersion, Module, VersionStatus
from live_sessions import registration
from live_sessions.models import Attendance, AttendanceStatus, LiveSession
from live_sessions.scheduling import SessionData, create_session
from lms import clock, db
from lms.accounts.models import Role, User
from lms.accounts.services import create_user
from lms.migrate import upgrade
from lms.organisations.services import seed_registry
from tests.conftest import make_test_app, own_database, separate_database
from tests.robustness import killing

# Each test kills worker processes midway many times: `make test` runs them, not test-fast.
pytestmark = pytest.mark.slow

MODULES = 200
SLUG = "bench-corso-grande"
PEOPLE = 200
TRAINER = "formatrice.robustezza@rete-milano.test"
KILL_AT = 0.6  # of the write phase seen in the complete run, from its opening
ATTEMPTS = 3  # a kill that comes too late (the command already ended) is tried again


def prepared_app(tmp: Path, url: str) -> Flask:
    """An app on ``url``, migrated and with the organisations, as after ``lms init-db``."""
    app = make_test_app(tmp, url)
    with app.app_context():
        upgrade(app)
        seed_registry(db.session)
        keys.ensure(db.session, app.config["LMS_SECRET_KEY"])  # the installation's key
        db.session.commit()
    return app


# --- course import -----------------------------------------------------------------------


def course_state(app: Flask) -> dict[str, object]:
    """What the database holds of the course, and any row without its parent."""
    with app.app_context():
        course_ids = select(Course.id)
        version_ids = select(CourseVersion.id)
        modules = (
            select(CourseVersion.status, CourseVersion.number, func.count(Module.id))
            .join(Course, Course.id == CourseVersion.course_id)
            .outerjoin(Module, Module.version_id == CourseVersion.id)
            .where(Course.slug == SLUG)
            .group_by(CourseVersion.id, CourseVersion.status, CourseVersion.number)
        )
        return {
            "courses": db.session.scalar(select(func.count()).where(Course.slug == SLUG)),
            "versions": sorted(tuple(row) for row in db.session.execute(modules)),
            "orphan_versions": db.session.scalar(
                select(func.count(CourseVersion.id)).where(
                    CourseVersion.course_id.not_in(course_ids)
                )
            ),
            "orphan_modules": db.session.scalar(
                select(func.count(Module.id)).where(Module.version_id.not_in(version_ids))
            ),
            "unrendered_modules": db.session.scalar(
                select(func.count(Module.id)).where(Module.body_html == "")
            ),
        }


COURSE_ABSENT = {
    "courses": 0,
    "versions": [],
    "orphan_versions": 0,
    "orphan_modules": 0,
    "unrendered_modules": 0,
}
COURSE_COMPLETE = {
    **COURSE_ABSENT,
    "courses": 1,
    "versions": [(VersionStatus.PUBLISHED.value, 1, MODULES)],
}


def test_course_import_killed_midway_leaves_all_or_nothing(tmp_path: Path) -> None:
    coursegen.write_big_course(tmp_path / "import", random.Random(200), modules=MODULES)
    folder = tmp_path / "import" / SLUG
    command = ["courses", "import", str(folder), "--publish"]
    instance = tmp_path / "instance"

    with own_database(), separate_database(tmp_path) as url:
        app = prepared_app(tmp_path, url)
        empty = killing.table_counts(url)
        with killing.write_probe(url) as probe:
            complete = killing.run_watched(
                command, killing.cli_env(url, instance), probe, tmp_path / "complete"
            )
        assert complete.returncode == 0, complete.stderr
        assert f"{SLUG}: pubblicata la versione 1" in complete.stdout
        assert course_state(app) == COURSE_COMPLETE
        full = killing.table_counts(url)
        app.extensions["lms"].engine.dispose()
    into = complete.into_writing(KILL_AT)
    print(
        f"complete import: {complete.seconds:.2f} s, write transaction open from "
        f"{complete.writing_from:.2f} s to {complete.writing_until:.2f} s "
        f"({complete.stdout.strip().splitlines()[-1]}); kill aimed {into:.2f} s into it"
    )

    outcomes = []
    for attempt in range(ATTEMPTS):
        with own_database(), separate_database(tmp_path) as url:
            app = prepared_app(tmp_path, url)
            assert killing.table_counts(url) == empty
            env = killing.cli_env(url, instance)
            with killing.write_probe(url) as probe:
                killed = killing.run_killed(
                    command, env, probe, tmp_path / f"killed-{attempt}", into=into
                )
            state = course_state(app)
            counts = killing.table_counts(url)
            assert killing.storage_problems(url) == []
            if state == COURSE_ABSENT:
                assert counts == empty, killing.difference(empty, counts)  # not one row left
                outcome = "nothing committed"
            else:
                assert state == COURSE_COMPLETE, state  # never a part of the course
                assert counts == full, killing.difference(full, counts)
                outcome = "complete course committed"
            print(f"attempt {attempt + 1}: {killed.describe()}: {outcome}")
            interesting = killed.mid_transaction and outcome == "nothing committed"
            outcomes.append((interesting, outcome))
            if not interesting:  # it reached its commit first (the run was quicker): aim earlier
                assert killed.returncode in (0, -signal.SIGKILL), killed.stderr
                into = complete.into_writing(KILL_AT / 2)
                app.extensions["lms"].engine.dispose()
                continue

            again = killing.run_cli(command, env)
            assert again.returncode == 0, again.stderr
            assert f"{SLUG}: pubblicata la versione 1" in again.stdout
            assert course_state(app) == COURSE_COMPLETE
            assert killing.table_counts(url) == full
            app.extensions["lms"].engine.dispose()
            break
    assert any(hit for hit, _outcome in outcomes), outcomes


# --- certificate issuing -----------------------------------------------------------------


def add_people(app: Flask) -> list[int]:
    with app.app_context():
        create_user(db.session, TRAINER, "Formatrice Robustezza", roles=(Role.TRAINER, Role.ADMIN))
        ids = [
            create_user(db.session, f"persona{n:04d}@rete-milano.test", f"Persona {n:04d}").id
            for n in range(PEOPLE)
        ]
        db.session.commit()
    return ids


def held_session(app: Flask, people: list[int], title: str) -> int:
    """A session everyone registered for (through the service), under way now."""
    with app.app_context():
        trainer = db.session.scalar(select(User).where(User.email == TRAINER))
        assert trainer is not None
        live = create_session(
            db.session,
            SessionData(
                title=title,
                starts_at=(clock.now() + dt.timedelta(days=7)).replace(microsecond=0),
                duration_minutes=120,
                capacity=PEOPLE,
                hours=Decimal(2),
                trainer_ids=[trainer.id],
                place="Casa dei Diritti, Milano",
                all_audiences=True,
                credits="2 CFP",
            ),
            actor=trainer,
        )
        for person in people:
            registration.register(db.session, live.id, person, actor=trainer)
        db.session.commit()
        db.session.execute(
            update(LiveSession).where(LiveSession.id == live.id).values(starts_at=clock.now())
        )
        db.session.commit()
        return live.id


def sign_in_sheet(path: Path) -> Path:
    rows = "".join(f"persona{n:04d}@rete-milano.test;presente\n" for n in range(PEOPLE))
    path.write_text("email;presenza\n" + rows, encoding="utf-8")
    return path


def attendance_command(session_id: int, sheet: Path) -> list[str]:
    return ["live_sessions", "import-attendance", str(session_id), str(sheet), "--by", TRAINER]


def certificate_problems(app: Flask) -> list[str]:
    """Every certificate whole, signed and tied to its completion; one current per completion."""
    problems = []
    with app.app_context():
        public = keys.public_keys(db.session)
        certificates = list(db.session.scalars(select(Certificate)))
        attendances = {a.id: a for a in db.session.scalars(select(Attendance))}
        for cert in certificates:
            if cert.serial.startswith("pending-") or not (
                cert.payload and cert.signature and cert.key_id
            ):
                problems.append(f"{cert.serial}: not fully written")
                continue
            document = signing.signature_document(cert.key_id, cert.signature)
            check = check_payload(cert.payload.encode("utf-8"), document, public)
            if check.outcome is not Outcome.VALID:
                problems.append(f"{cert.serial}: signature {check.outcome}")
            elif check.payload.get("serial") != cert.serial:
                problems.append(f"{cert.serial}: signed for {check.payload.get('serial')}")
            kind, _sep, number = cert.completion_ref.partition(":")
            attendance = attendances.get(int(number)) if kind == "session-attendance" else None
            if (
                attendance is None
                or attendance.status != AttendanceStatus.PRESENT
                or attendance.user_id != cert.user_id
                or cert.key != f"session:{attendance.session_id}"
            ):
                problems.append(f"{cert.serial}: no completion {cert.completion_ref}")
        current = Counter(
            c.completion_ref
            for c in certificates
            if c.revoked_at is None and c.superseded_at is None
        )
        problems += [f"{ref}: {n} current certificates" for ref, n in current.items() if n > 1]
        for label, values in (
            ("code", [c.code for c in certificates]),
            ("serial", [c.serial for c in certificates]),
        ):
            problems += [f"{label} {v} used {n} times" for v, n in Counter(values).items() if n > 1]
    return problems


def certified(app: Flask, session_id: int) -> tuple[int, int]:
    """(present attendances, their certificates) of one session."""
    with app.app_context():
        present = select(Attendance.id).where(
            Attendance.session_id == session_id, Attendance.status == AttendanceStatus.PRESENT
        )
        refs = [f"session-attendance:{n}" for n in db.session.scalars(present)]
        certificates = db.session.scalar(
            select(func.count(Certificate.id)).where(Certificate.completion_ref.in_(refs))
        )
        return len(refs), int(certificates or 0)


def test_certificate_issuing_killed_midway_leaves_all_or_nothing(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    with own_database(), separate_database(tmp_path) as url:
        app = prepared_app(tmp_path, url)
        try:
            env = killing.cli_env(url, instance)
            people = add_people(app)
            sheet = sign_in_sheet(tmp_path / "firme.csv")

            first = held_session(app, people, "Incontro completo")
            before = killing.table_counts(url)
            with killing.write_probe(url) as probe:
                complete = killing.run_watched(
                    attendance_command(first, sheet), env, probe, tmp_path / "first"
                )
            assert complete.returncode == 0, complete.stderr
            assert f"Righe lette: {PEOPLE}; modifiche: {PEOPLE}." in complete.stdout
            assert certified(app, first) == (PEOPLE, PEOPLE)
            assert certificate_problems(app) == []
            delta = killing.added(before, killing.table_counts(url))
            with app.app_context():
                earlier = db.session.scalars(select(Certificate).order_by(Certificate.id)).first()
                assert earlier is not None
                earlier_id, earlier_code = earlier.id, earlier.code
            into = complete.into_writing(KILL_AT)
            print(
                f"complete issuing of {PEOPLE}: {complete.seconds:.2f} s, write transaction "
                f"open from {complete.writing_from:.2f} s to {complete.writing_until:.2f} s; "
                f"kill aimed {into:.2f} s into it"
            )

            outcomes = []
            for attempt in range(ATTEMPTS):
                target = held_session(app, people, f"Incontro interrotto {attempt + 1}")
                before = killing.table_counts(url)
                with killing.write_probe(url) as probe:
                    killed = killing.run_killed(
                        attendance_command(target, sheet),
                        env,
                        probe,
                        tmp_path / f"killed-{attempt}",
                        into=into,
                    )
                counts = killing.table_counts(url)
                assert killing.storage_problems(url) == []
                assert certificate_problems(app) == []
                issued = certified(app, target)
                if issued == (0, 0):
                    assert counts == before, killing.difference(before, counts)
                    outcome = "nothing committed"
                else:
                    assert issued == (PEOPLE, PEOPLE), issued  # never a part of the sheet
                    assert counts == killing.plus(before, delta)
                    outcome = "whole sheet committed"
                print(f"attempt {attempt + 1}: {killed.describe()}: {outcome}")
                interesting = killed.mid_transaction and outcome == "nothing committed"
                outcomes.append((interesting, outcome))
                if not interesting:  # it reached its commit first: aim earlier
                    assert killed.returncode in (0, -signal.SIGKILL), killed.stderr
                    into = complete.into_writing(KILL_AT / 2)
                    continue

                again = killing.run_cli(attendance_command(target, sheet), env)
                assert again.returncode == 0, again.stderr
                assert f"Righe lette: {PEOPLE}; modifiche: {PEOPLE}." in again.stdout
                assert certified(app, target) == (PEOPLE, PEOPLE)
                assert certificate_problems(app) == []
                assert killing.table_counts(url) == killing.plus(before, delta)
                break
            assert any(hit for hit, _outcome in outcomes), outcomes

            with app.app_context():  # issued before the kill: still verifies, offline and by code
                cert = db.session.get(Certificate, earlier_id)
                assert cert is not None and cert.revoked_at is None
                with app.test_request_context():
                    document = certificate_pdf(cert)
                public = keys.public_keys(db.session)
                check = check_pdf(document, public)
                assert check.outcome is Outcome.VALID, check
                assert check.payload["serial"] == cert.serial
                found = find_by_code(db.session, earlier_code)
                assert found is not None and found.id == earlier_id
        finally:
            app.extensions["lms"].engine.dispose()
