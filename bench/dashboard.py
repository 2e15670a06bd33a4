"""The referent dashboard at size L: CPU time and statements per request, in process.

``python -m bench --size L --only dashboard`` seeds size L (50,000 staff; the Polizia
Locale with 5,000 under a commitment of 10 required courses) on SQLite and PostgreSQL
and requests the big organisation's dashboard through the Flask test client in the
shapes a referent uses: the first page, sorted by status descending on a later page,
sorted by a course column (the one that once filled every person's cells), filtered
by status, and a text search. At any size, the part runs on what was seeded.

The figure to watch is the CPU per request (the service time a worker spends; p95
under ``make bench``'s load is about twice it) and that statements stay the same
whatever the variant and the number of staff.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import big_dashboard_path, log, make_app
from bench.inprocess import Counter, _login


def variants(path: str, course_id: int) -> dict[str, str]:
    """Name -> URL of each shape measured."""
    return {
        "first page": path,
        "status, descending, page 40": f"{path}&sort=status&dir=desc&page=40",
        "course column": f"{path}&sort=course-{course_id}",
        "course column, descending, page 60": f"{path}&sort=course-{course_id}&dir=desc&page=60",
        "status filter (in progress)": f"{path}&status=in_progress",
        "text search": f"{path}&q=ross",
    }


def _course_id(app: Any, path: str) -> int:
    """The big commitment's last course (query string ``c=<id>``)."""
    from sqlalchemy import select

    from commitments.models import CommitmentCourse
    from lms import db

    commitment_id = int(path.rsplit("c=", 1)[1])
    with app.app_context():
        course_id = db.session.scalar(
            select(CommitmentCourse.course_id)
            .where(CommitmentCourse.commitment_id == commitment_id)
            .order_by(CommitmentCourse.position.desc())
            .limit(1)
        )
        db.session.remove()
    return int(course_id)


UNIT_STAFF = 500
UNIT_NAME = "Comando bench"


def unit_variants(path: str, course_id: int, unit_id: int) -> dict[str, str]:
    return {
        "unit referent, first page": path,
        "unit referent, course column": f"{path}&sort=course-{course_id}",
        "unit referent, status filter": f"{path}&status=in_progress",
        "organisation referent, narrowed to the unit": f"{path}&unit={unit_id}",
    }


def prepare_unit(app: Any, report: Any) -> tuple[int, str]:
    """The unit (created once, idempotent): UNIT_STAFF of the big organisation's current
    staff placed in it, and a referent of it; returns its id and the referent's e-mail."""
    from sqlalchemy import select, update
    from werkzeug.security import generate_password_hash

    from lms import db
    from lms.accounts.models import User
    from lms.accounts.services import create_user
    from lms.organisations.models import Audience, Membership, Organisation, OrganisationUnit
    from lms.organisations.units import create_unit

    email = "referente.unita@bench.test"
    with app.app_context():
        organisation = db.session.get(Organisation, report.big_organisation_id)
        unit = db.session.scalar(
            select(OrganisationUnit).where(
                OrganisationUnit.organisation_id == organisation.id,
                OrganisationUnit.name == UNIT_NAME,
            )
        )
        if unit is None:
            unit = create_unit(db.session, organisation, UNIT_NAME)
            people = list(
                db.session.scalars(
                    select(Membership.id)
                    .where(
                        Membership.organisation_id == organisation.id,
                        Membership.ended_at.is_(None),
                        Membership.is_referent.is_(False),
                    )
                    .order_by(Membership.id)
                    .limit(UNIT_STAFF)
                )
            )
            db.session.execute(
                update(Membership).where(Membership.id.in_(people)).values(unit_id=unit.id)
            )
            referent = db.session.scalar(select(User).where(User.email == email))
            if referent is None:
                referent = create_user(db.session, email, "Referente Unità Bench")
                referent.password_hash = generate_password_hash(report.password)
            audience = db.session.scalar(select(Audience).where(Audience.code == "amministrazione"))
            db.session.add(
                Membership(
                    user_id=referent.id,
                    organisation_id=organisation.id,
                    audience_id=audience.id,
                    unit_id=unit.id,
                    is_referent=True,
                )
            )
            db.session.commit()
        unit_id = unit.id
        db.session.remove()
    return unit_id, email


def _measure(client: Any, url: str, name: str, counter: Any, repeat: int) -> dict[str, Any]:
    cpu, wall, statements = [], [], []
    for n in range(repeat + 1):
        before = counter.count
        c0, w0 = time.process_time(), time.perf_counter()
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"dashboard {name}: status {response.status_code}")
        if n:  # the first one warms caches
            cpu.append(1000 * (time.process_time() - c0))
            wall.append(1000 * (time.perf_counter() - w0))
            statements.append(counter.count - before)
    found = {
        "cpu_ms": round(statistics.median(cpu), 1),
        "cpu_min_ms": round(min(cpu), 1),
        "cpu_max_ms": round(max(cpu), 1),
        "wall_ms": round(statistics.median(wall), 1),
        "statements": max(statements),
        "n": len(cpu),
    }
    log(
        f"dashboard  {name:<44} {found['cpu_ms']:7.1f} ms CPU "
        f"[{found['cpu_min_ms']:.1f}-{found['cpu_max_ms']:.1f}]  "
        f"{found['statements']:3d} statements"
    )
    return found


def run(report: Any, repeat: int = 7) -> dict[str, Any]:
    """Each variant ``repeat`` times after one warm-up: median, min and max CPU ms."""
    app = make_app(Path(report.instance), report.database_url)
    counter = Counter(app.extensions["lms"].engine)
    results: dict[str, Any] = {"staff": report.big_organisation_staff}
    try:
        referent, _token = _login(app, report.referent_email, report.password)
        path = big_dashboard_path(app, report.big_organisation_id)
        course_id = _course_id(app, path)
        for name, url in variants(path, course_id).items():
            results[name] = _measure(referent, url, name, counter, repeat)
        # Units (issue 18): a unit of UNIT_STAFF people inside the big organisation, read
        # by its own referent and by the organisation's referent narrowing to it.
        unit_id, unit_referent = prepare_unit(app, report)
        unit_client, _token = _login(app, unit_referent, report.password)
        results["units"] = {"staff": UNIT_STAFF}
        for name, url in unit_variants(path, course_id, unit_id).items():
            client = referent if name.startswith("organisation referent") else unit_client
            results["units"][name] = _measure(client, url, name, counter, repeat)
    finally:
        counter.close()
        app.extensions["lms"].engine.dispose()
    return results
