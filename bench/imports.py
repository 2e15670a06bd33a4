"""Course import time: ``content/`` and a generated 200-module course.

Each import runs on a freshly migrated database of its own (the same kind as the
run: SQLite file or PostgreSQL), through ``courses.cli.import_path`` — what
``lms courses import PATH --publish`` runs — validation, rendering, quiz
parsing, publishing and the commit included.

    .venv/bin/python -m bench.imports [--database-url URL] [--modules 200]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path
from typing import Any

from bench import coursegen
from bench.common import ROOT, Timer, fresh_schema, log, make_app, sqlite_url


def _import(app: Any, folder: Path) -> tuple[float, int, int]:
    from sqlalchemy import func, select

    from courses.cli import import_path
    from courses.models import Module
    from lms import db

    with app.app_context():
        timer = Timer()
        results = import_path(folder, publish=True)
        db.session.commit()
        seconds = timer.seconds
        modules = db.session.scalar(select(func.count(Module.id))) or 0
    return seconds, len(results), int(modules)


def run(database_url: str | None = None, *, modules: int = 200, repeat: int = 2) -> dict[str, Any]:
    """Best of ``repeat`` imports of each folder, each on an empty database."""
    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-import-"))
    big_root = tmp / "big"
    coursegen.write_big_course(big_root, random.Random(200), modules=modules)
    results: dict[str, Any] = {}
    for label, folder in (("content", ROOT / "content"), ("generated", big_root)):
        best = None
        for attempt in range(repeat):
            url = database_url or sqlite_url(tmp, f"{label}-{attempt}.sqlite3")
            app = make_app(tmp / f"instance-{label}-{attempt}", url)
            fresh_schema(app)
            seconds, courses, count = _import(app, folder)
            app.extensions["lms"].engine.dispose()
            if best is None or seconds < best[0]:
                best = (seconds, courses, count)
        assert best is not None
        results[label] = {
            "seconds": round(best[0], 3),
            "courses": best[1],
            "modules": best[2],
            "ms_per_module": round(1000 * best[0] / max(best[2], 1), 1),
        }
        log(f"import {label}: {best[1]} courses, {best[2]} modules in {best[0]:.2f} s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--modules", type=int, default=200)
    args = parser.parse_args()
    print(run(args.database_url, modules=args.modules))


if __name__ == "__main__":
    main()
