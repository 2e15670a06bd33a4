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


def run(report: Any, repeat: int = 7) -> dict[str, Any]:
    """Each variant ``repeat`` times after one warm-up: median, min and max CPU ms."""
    app = make_app(Path(report.instance), report.database_url)
    counter = Counter(app.extensions["lms"].engine)
    results: dict[str, Any] = {"staff": report.big_organisation_staff}
    try:
        referent, _token = _login(app, report.referent_email, report.password)
        path = big_dashboard_path(app, report.big_organisation_id)
        for name, url in variants(path, _course_id(app, path)).items():
            cpu, wall, statements = [], [], []
            for n in range(repeat + 1):
                before = counter.count
                c0, w0 = time.process_time(), time.perf_counter()
                response = referent.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"dashboard {name}: status {response.status_code}")
                if n:  # the first one warms caches
                    cpu.append(1000 * (time.process_time() - c0))
                    wall.append(1000 * (time.perf_counter() - w0))
                    statements.append(counter.count - before)
            results[name] = {
                "cpu_ms": round(statistics.median(cpu), 1),
                "cpu_min_ms": round(min(cpu), 1),
                "cpu_max_ms": round(max(cpu), 1),
                "wall_ms": round(statistics.median(wall), 1),
                "statements": max(statements),
                "n": len(cpu),
            }
            log(
                f"dashboard  {name:<36} {results[name]['cpu_ms']:7.1f} ms CPU "
                f"[{results[name]['cpu_min_ms']:.1f}-{results[name]['cpu_max_ms']:.1f}]  "
                f"{results[name]['statements']:3d} statements"
            )
    finally:
        counter.close()
        app.extensions["lms"].engine.dispose()
    return results
