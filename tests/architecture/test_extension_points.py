"""Extension points: per-app registries filled in ``init_app``, signals per app.

(a) a third-party plugin (``sample_plugin``) adds a fenced block and a question type
through the contract, and a course using both imports, renders and is scored;
(b) two apps in one process with different plugin sets do not see each other's hooks;
(c) no module-global registry remains in the core or the plugins.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from courses import authoring
from courses.api import (
    COMPLETION_REQUIREMENTS,
    FENCED_BLOCKS,
    LearningChanges,
    learning_changed,
    module_completed,
)
from courses.catalogue import published_version
from courses.enrolment import enrol
from courses.format import parse_bundle
from courses.models import CourseCompletion, EnrolmentSource
from courses.progress import complete_module
from courses.rendering import render_lesson
from lms import audit, clock, db, signals
from lms.errors import FormatError, ServiceError
from lms.plugins import registry
from lms.signals import CompletionEvent, completion_recorded
from quizzes import attempts
from quizzes.question_types import QUESTION_TYPES
from tests.conftest import login, make_test_app

ROOT = Path(__file__).resolve().parents[2]
COURSE = """---
slug: corso-estensioni
title: Corso con estensioni
summary: Prova.
audiences: [all]
---
Introduzione.
"""
EXERCISE_MODULE = """---
title: Esercizio
estimated_minutes: 1
---
Prima dell'esercizio.

```esercizio
Scrivi tre parole sul triage.
```

Dopo l'esercizio.
"""
QUIZ_MODULE = """---
title: Verifica
estimated_minutes: 1
---
Lezione della verifica.

```quiz
pass_mark: 100
questions:
  - id: pronto
    type: si_no
    text: Hai letto la lezione?
    answer: true
```
"""


def course_files(exercise: str = EXERCISE_MODULE) -> dict[str, bytes]:
    return {
        "course.md": COURSE.encode(),
        "01-esercizio.md": exercise.encode(),
        "02-verifica.md": QUIZ_MODULE.encode(),
    }


@pytest.fixture
def sample_plugin(tmp_path: Path) -> Iterator[None]:
    """``tests.architecture.sample_plugin`` installed as a distribution with an
    ``lms.plugins`` entry point, as a third party would ship it."""
    dist = tmp_path / "sample_blocks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sample-blocks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[lms.plugins]\nsample_blocks = tests.architecture.sample_plugin:plugin\n"
    )
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))


def make_app(app: Flask, tmp_path: Path, plugins: str) -> Flask:
    """Another app in this process, with these plugins, on the test database."""
    other = make_test_app(tmp_path, app.config["LMS_DATABASE_URL"], LMS_PLUGINS=plugins)
    other.extensions["lms"].engine = app.extensions["lms"].engine
    return other


# --- (a) a third-party plugin through the contract ---------------------------------------


def test_a_plugin_adds_a_fenced_block_and_a_question_type(
    app: Flask, tmp_path: Path, sample_plugin: None, make_user
):
    extended = make_app(app, tmp_path, "courses,quizzes,sample_blocks")
    learner = make_user()
    with extended.app_context():
        version = authoring.import_files(
            db.session, course_files(), user=None, publish=True
        ).version
        exercise, quiz_module = version.modules
        assert exercise.completed_by_block and quiz_module.completed_by_block
        assert "Scrivi tre parole" not in exercise.body_html  # the block is not the lesson
        assert "Prima dell" in exercise.body_html and "Dopo l" in exercise.body_html
        enrol(db.session, learner, version, source=EnrolmentSource.SELF)
        db.session.commit()
        slug, learner_email = version.course.slug, learner.email

    client = extended.test_client()
    login(client, learner_email)
    course_page = client.get(f"/courses/{slug}/").get_data(as_text=True)
    assert "con esercizio" in course_page and "con quiz" in course_page  # the blocks' labels
    module_page = client.get(f"/courses/{slug}/modules/esercizio").get_data(as_text=True)
    assert "Esercizio: la formatrice lo segna come svolto." in module_page  # its template
    assert "Scrivi tre parole" not in module_page and "Segna come completato" not in module_page

    with extended.app_context():
        version = published_version(db.session, slug)
        user = db.session.merge(learner)
        with pytest.raises(ServiceError, match="lo segna come svolto la formatrice"):
            complete_module(db.session, user, version, "esercizio")
        complete_module(db.session, user, version, "esercizio", by_block=True)
        attempt = attempts.start_attempt(db.session, user, version, version.modules[1])
        assert attempt.presented["questions"][0]["type"] == "si_no"  # the plugin's type, presented
        scored = attempts.submit_attempt(db.session, user, attempt.id, {"pronto": "true"})
        assert scored.passed  # scored by the plugin's type: the course is complete
        completed = db.session.scalar(
            select(CourseCompletion).where(CourseCompletion.user_id == user.id)
        )
        assert completed is not None and completed.course_id == version.course_id
    assert extended.extensions["sample_blocks"] == [
        (learner.id, "esercizio"),
        (learner.id, "verifica"),
    ]


def test_the_plugins_block_is_checked_on_import_with_file_and_line(
    app: Flask, tmp_path: Path, sample_plugin: None
):
    extended = make_app(app, tmp_path, "courses,quizzes,sample_blocks")
    empty = EXERCISE_MODULE.replace("Scrivi tre parole sul triage.\n", "")
    with extended.app_context(), pytest.raises(FormatError) as caught:
        parse_bundle(course_files(empty), set())
    assert [(i.file, i.line, i.message) for i in caught.value.issues] == [
        ("01-esercizio.md", 8, "l'esercizio è vuoto")
    ]


# --- (b) two apps, two plugin sets, no shared hooks ---------------------------------------


def test_two_apps_with_different_plugins_do_not_see_each_others_hooks(
    app: Flask, tmp_path: Path, sample_plugin: None
):
    full = make_app(app, tmp_path, "courses,quizzes,live_sessions,commitments,sample_blocks")
    bare = make_app(app, tmp_path, "courses,certificates")

    assert registry(FENCED_BLOCKS, full).keys() == ["quiz", "esercizio"]
    assert registry(FENCED_BLOCKS, bare).keys() == []
    assert registry(COMPLETION_REQUIREMENTS, full).keys() == ["live_sessions.attendance"]
    assert registry(COMPLETION_REQUIREMENTS, bare).keys() == []
    assert "si_no" in registry(QUESTION_TYPES, full) and len(registry(QUESTION_TYPES, bare)) == 0

    # The same course read by each app: a quiz block is a quiz only where quizzes is loaded.
    files = course_files()
    with full.app_context():
        gated = [m.completed_by_block for m in parse_bundle(files, set()).modules]
    with bare.app_context():
        plain = parse_bundle(files, set()).modules
    assert gated == [True, True]
    assert [m.completed_by_block for m in plain] == [False, False]
    # ... but its content is never lesson text, even where quizzes is not loaded: an
    # installed plugin's block (a quiz's answers) stays hidden.
    with bare.app_context():
        lesson = render_lesson(QUIZ_MODULE.split("---\n", 2)[2])
    assert "Lezione della verifica" in lesson
    assert "Hai letto la lezione" not in lesson and "answer" not in lesson

    # Signals: each app's receivers run for that app only.
    full_receivers = {id(r) for r in completion_recorded.receivers_for(full)}
    bare_receivers = {id(r) for r in completion_recorded.receivers_for(bare)}
    assert bare_receivers - full_receivers  # certificates listens in bare only
    with full.app_context():
        learning_before = list(full.extensions["sample_blocks"])
        signals.send(module_completed, session=db.session, user_id=1, module_slug="x")
    with bare.app_context():
        signals.send(module_completed, session=db.session, user_id=2, module_slug="y")
    assert full.extensions["sample_blocks"] == [*learning_before, (1, "x")]

    # Session hooks are installed on each app's own session class.
    from commitments import standing

    full_class = full.extensions["lms"].session_class
    bare_class = bare.extensions["lms"].session_class
    assert full_class is not bare_class
    assert event.contains(full_class, "after_flush", standing.note_flush)
    assert not event.contains(bare_class, "after_flush", standing.note_flush)
    assert event.contains(bare_class, "before_flush", audit._append_only)
    with bare.app_context():
        assert isinstance(db.session(), bare_class)
        changes = LearningChanges(everyone=True)
        signals.send(learning_changed, session=db.session, changes=changes)
        assert standing.PENDING_KEY not in db.session.info  # no standings in this app
    with full.app_context():
        signals.send(learning_changed, session=db.session, changes=changes)
        assert db.session.info[standing.PENDING_KEY]["all"]
        db.session.info.pop(standing.PENDING_KEY)


def test_a_certificate_is_issued_only_by_the_app_with_the_plugin(
    app: Flask, tmp_path: Path, make_user
):
    from certificates.models import Certificate

    with_certificates = make_app(app, tmp_path, "certificates")
    without = make_app(app, tmp_path, "courses")
    user = make_user()
    event_ = CompletionEvent(
        user_id=user.id,
        kind="course",
        key="course:estensioni",
        completion_ref="course-completion:estensioni",
        title="Corso",
        version_label="1",
        hours=1.0,
        completed_at=clock.now(),
    )

    def issued() -> int:
        return len(
            db.session.scalars(
                select(Certificate).where(Certificate.completion_ref == event_.completion_ref)
            ).all()
        )

    with without.app_context():
        signals.send(completion_recorded, session=db.session, event=event_)
        assert issued() == 0
    with with_certificates.app_context():
        signals.send(completion_recorded, session=db.session, event=event_)
        assert issued() == 1


# --- (c) no module-global registries -------------------------------------------------------

PACKAGES = ("lms", "courses", "quizzes", "certificates", "commitments", "live_sessions", "surveys")
MUTATORS = {
    "append",
    "add",
    "update",
    "setdefault",
    "extend",
    "insert",
    "__setitem__",
    "appendleft",
}
EMPTY_FACTORIES = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque"}
#: Module-level mutable values that are not registries, and why. Keep it short: each is a
#: cache of a pure function's results, the same whichever app asks.
ALLOWED = {
    "lms.fonts._loaded": "parsed font files, by path",
    "lms.i18n._PLAIN": "escaped plain-text translations, by (locale, text), bounded",
    "certificates.pdf._mask_deltas": "QR mask penalties, by (version, error level)",
}


def _is_mutable_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in EMPTY_FACTORIES
    )


def _is_empty(node: ast.expr) -> bool:
    if isinstance(node, ast.Dict):
        return not node.keys
    if isinstance(node, ast.List | ast.Set):
        return not node.elts
    return isinstance(node, ast.Call) and not node.args and not node.keywords


def module_globals(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound at module level to a mutable dict, list or set (or an empty factory)."""
    found: dict[str, ast.expr] = {}
    for statement in tree.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        if _is_mutable_literal(value):
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = value
    return found


def mutated_names(tree: ast.AST) -> set[str]:
    """Names (bare or as ``module.name``) that code changes in place after binding."""

    def name_of(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return None

    changed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATORS and (name := name_of(node.func.value)):
                changed.add(name)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and (name := name_of(target.value)):
                    changed.add(name)
            if isinstance(node, ast.AugAssign) and (name := name_of(node.target)):
                changed.add(name)
    return changed


def registry_like_globals(root: Path = ROOT) -> list[str]:
    """Module-level mutable containers that start empty (to be filled later) or that any
    module changes in place: the shape of a process-wide registry."""
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    }
    changed = set().union(*(mutated_names(tree) for tree in trees.values()))
    found = []
    for path, tree in trees.items():
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for name, value in module_globals(tree).items():
            qualified = f"{module}.{name}"
            if qualified in ALLOWED:
                continue
            if _is_empty(value) or name in changed:
                found.append(qualified)
    return found


def test_no_module_global_registries_remain():
    assert registry_like_globals() == []


def test_the_scan_finds_the_registries_it_replaced(tmp_path: Path):
    """The shapes this issue removed, written back into a copy: each one is found."""
    package = tmp_path / "courses"
    package.mkdir()
    (package / "format.py").write_text(
        "from collections.abc import Callable\n"
        "block_validators: dict[str, Callable] = {}\n"
        "SLUG_RE = 'constant'\n"
        "ASSET_TYPES = {'.png': 'image/png'}\n"
    )
    (package / "learning.py").write_text("completion_requirements: list = []\n")
    (package / "types.py").write_text(
        "QUESTION_TYPES = {'single': object}\n"
        "def register(cls):\n"
        "    QUESTION_TYPES[cls.name] = cls\n"
        "    return cls\n"
    )
    (package / "plugin.py").write_text(
        "from courses import learning\n"
        "def init_app(app):\n"
        "    learning.completion_requirements.append(print)\n"
    )
    assert sorted(registry_like_globals(tmp_path)) == [
        "courses.format.block_validators",
        "courses.learning.completion_requirements",
        "courses.types.QUESTION_TYPES",
    ]
