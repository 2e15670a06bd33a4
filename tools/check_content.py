"""Check course folders as the content test does, and print their figures.

    .venv/bin/python tools/check_content.py [content/<slug> ...]   (default: all of content/)

Imports the folders (with the prerequisites they name from content/) into a throw-away
SQLite database under the installation's default evidence profile, then applies the
editorial rules of tests/content/audit.py. Prints every problem with file and line, a
table of figures per module, and OK when there is nothing to fix.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from courses.cli import course_folders, import_path  # noqa: E402
from lms import create_app, db  # noqa: E402
from lms.errors import FormatError  # noqa: E402
from lms.migrate import upgrade  # noqa: E402
from lms.organisations.services import list_audiences, seed_registry  # noqa: E402
from tests.content import audit  # noqa: E402


def main(arguments: list[str]) -> int:
    targets = [Path(a).resolve() for a in arguments] or course_folders(audit.CONTENT)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "INSTANCE_PATH": f"{tmp}/instance",
                "LMS_DATABASE_URL": f"sqlite:///{tmp}/check.sqlite3",
                "LMS_SECRET_KEY": "check-content",
                "LMS_BASE_URL": "http://127.0.0.1",
                "LMS_LOG_JSON": False,
            }
        )
        with app.app_context():
            upgrade(app)
            seed_registry(db.session)
            db.session.commit()
            problems = _import(targets)
            known = [a.code for a in list_audiences(db.session)]
            found, courses = audit.audit(targets, known)
            problems += found + audit.duplicate_questions(course_folders(audit.CONTENT))
    for course in courses:
        print(f"\n{course.slug} ({', '.join(course.audiences)}; {course.evidence})")
        for m in course.modules:
            print(
                f"  {m.file:45} {m.words:5} parole {m.minutes:3} min {m.tables} tab "
                f"{m.questions:3} domande draw {m.draw or '-'}"
            )
        print(f"  {'totale':45} {course.words:5} parole {course.minutes:3} min")
    for problem in problems:
        print("PROBLEMA", problem)
    print("OK" if not problems else f"{len(problems)} problemi")
    return 1 if problems else 0


def _import(targets: list[Path]) -> list[str]:
    """Import the targets with the content/ courses they depend on, prerequisites first."""
    with tempfile.TemporaryDirectory() as staging:
        by_slug = {audit.front_matter(f).get("slug"): f for f in course_folders(audit.CONTENT)}
        wanted: dict[str, Path] = {}
        todo = list(targets)
        while todo:
            folder = todo.pop()
            if folder.name not in wanted:
                wanted[folder.name] = folder
                for slug in audit.front_matter(folder).get("prerequisites") or []:
                    if slug in by_slug:
                        todo.append(by_slug[slug])
        for name, folder in wanted.items():
            (Path(staging) / name).symlink_to(folder)
        try:
            import_path(Path(staging), publish=True)
        except FormatError as error:
            return [str(issue) for issue in error.issues]
        finally:
            db.session.rollback()
    return []


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
