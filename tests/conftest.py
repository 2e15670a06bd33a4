"""Shared fixtures: one database per session (migrated once), rollback per test.

The database is SQLite in a temp dir unless ``LMS_TEST_DATABASE_URL`` names
another (``tools/run-tests`` points it at a throwaway PostgreSQL cluster).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from lms import clock, create_app, db
from lms.accounts.models import Role, User
from lms.accounts.services import create_user
from lms.organisations.models import Membership
from lms.organisations.services import add_member, organisation_by_code, seed_registry

if TYPE_CHECKING:
    from courses.models import CourseVersion

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def database_url(tmp_dir: Path) -> str:
    return os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


def make_test_app(tmp_dir: Path, url: str, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_dir / "instance"),
        "LMS_DATABASE_URL": url,
        "LMS_SECRET_KEY": "test-secret-key-not-for-production",
        "LMS_MAIL_BACKEND": "file",
        "LMS_MAIL_FILE_DIR": str(tmp_dir / "mail"),
        "LMS_LOG_JSON": False,
        "LMS_BASE_URL": "http://lms.test",
        # Jobs run as soon as their transaction commits, in the test's process (Huey's
        # immediate mode); tests/core/test_jobs*.py run real queues and workers.
        "LMS_JOBS_URL": "immediate",
        # Courses that declare no evidence profile follow the installation's (professional
        # by default: tracked time, limited attempts). The suite's courses complete in
        # seconds, so its installation asks no study time and allows any attempts; the
        # evidence tests declare real profiles in their course.md.
        "LMS_EVIDENCE_PROFILE": {
            "base": "awareness",
            "min_time_share": 0,
            "certificate_hours": True,
        },
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from lms.migrate import upgrade

    tmp_dir = tmp_path_factory.mktemp("lms")
    url = database_url(tmp_dir)
    app = make_test_app(tmp_dir, url)
    engine = app.extensions["lms"].engine
    _drop_everything(engine)
    with app.app_context():
        upgrade(app)
        seed_registry(db.session)
        db.session.commit()
        db.session.remove()
    yield app
    engine.dispose()


def _drop_everything(engine: Any) -> None:
    """Start the shared PostgreSQL test database from nothing (SQLite files are new)."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


_current_connection: list[Any] = []


@contextmanager
def own_database() -> Iterator[None]:
    """Let an extra app in a test use its own engine, outside the test transaction."""
    db.session.remove()
    db.session.configure(bind=None)
    try:
        yield
    finally:
        db.session.remove()
        db.session.configure(bind=_current_connection[-1])


@contextmanager
def separate_database(tmp_dir: Path) -> Iterator[str]:
    """A database of its own for tests that need real commits and concurrency.

    A fresh SQLite file, or a fresh PostgreSQL database beside the shared test one.
    """
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    shared = os.environ.get("LMS_TEST_DATABASE_URL")
    if not shared:
        yield f"sqlite:///{tmp_dir / f'separate-{secrets.token_hex(4)}.sqlite3'}"
        return
    url = make_url(shared)
    name = f"lmstest_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _transaction(app: Flask) -> Iterator[None]:
    """Each test runs inside a transaction rolled back at the end.

    Code under test may commit: with ``create_savepoint`` its commits release
    savepoints inside the outer transaction, which the fixture then discards.
    """
    engine = app.extensions["lms"].engine
    connection = engine.connect()
    outer = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    _current_connection.append(connection)
    # No app context is pushed here: each request gets its own (and its own
    # session and ``g``), as in production. Tests push one when they need it.
    yield
    db.session.remove()
    db.session.configure(bind=None, join_transaction_mode="conservative_savepoint")
    _current_connection.pop()
    outer.rollback()
    connection.close()


@pytest.fixture(autouse=True)
def _wall_clock() -> Iterator[None]:
    """Every test starts on the wall clock and gives back whatever it fixed."""
    clock.set_now(None)
    yield
    clock.set_now(None)


@contextmanager
def service_context(app: Flask) -> Iterator[None]:
    """An application context around a service call made from a test without one, with
    the caller's session kept: services ask the current app for its plugins' hooks
    (fenced blocks, completion requirements, signal receivers), and the objects they
    return stay in the test's session. Inside an app context already: that app's."""
    if has_app_context():
        yield
        return
    outer = db.session()
    with app.app_context():
        db.session.registry.set(outer)
        try:
            yield
        finally:
            db.session.registry.clear()  # the context's teardown must not close it


@pytest.fixture
def in_app_context(app: Flask) -> Iterator[None]:
    """For service-level tests (no test client): an application context, as in a CLI
    command. Not autouse: requests in one shared app context would share ``g``."""
    with app.app_context():
        yield


@pytest.fixture
def outbox(app: Flask, tmp_path: Path) -> Iterator[Outbox]:
    directory = tmp_path / "mail"
    previous = app.config["LMS_MAIL_FILE_DIR"]
    app.config["LMS_MAIL_FILE_DIR"] = str(directory)
    yield Outbox(directory)
    app.config["LMS_MAIL_FILE_DIR"] = previous


class Outbox:
    """Messages written by the ``file`` mail backend."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def messages(self) -> list[Any]:
        from email import message_from_bytes, policy

        if not self.directory.exists():
            return []
        files = sorted(self.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]

    def links(self, prefix: str) -> list[str]:
        found = []
        for message in self.messages():
            body = message.get_content()
            found += re.findall(re.escape(prefix) + r"\S+", body)
        return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def slow_except(keep: str, values: Any) -> list[Any]:
    """Parameters for ``parametrize``: the fast loop runs ``keep`` only, the rest are
    marked slow (one role walks the pages in ``make test-fast``, every role in ``make test``)."""
    assert keep in values, f"{keep!r} is not among {values!r}"
    return [v if v == keep else pytest.param(v, marks=pytest.mark.slow) for v in values]


def csrf_token(client: FlaskClient, url: str) -> str:
    """Read the CSRF token from a real form, as a browser would."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def post_form(
    client: FlaskClient,
    url: str,
    data: dict[str, Any],
    *,
    form_url: str | None = None,
    **kwargs: Any,
) -> Any:
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return post_form(client, "/account/login", {"email": email, "password": password})


@pytest.fixture
def make_user() -> Any:
    counter = iter(range(1, 1_000_000))

    def factory(
        *,
        email: str | None = None,
        name: str = "Persona di Prova",
        roles: tuple[Role, ...] = (),
        org: str | None = None,
        audience: str = "polizia_locale",
        referent: bool = False,
        password: str | None = PASSWORD,
    ) -> User:
        email = email or f"persona{next(counter)}@rete-milano.test"
        user = create_user(db.session, email, name, password=password, roles=roles)
        if org:
            add_member(
                db.session,
                organisation_by_code(db.session, org),
                email=email,
                full_name=name,
                audience_code=audience,
                is_referent=referent,
            )
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_course(app: Flask) -> Callable[..., CourseVersion]:
    """Publish a course as a trainer's upload does (the import service), commit, and
    return the published version: what every test needing a course starts from.

    ``files`` as ``tests/courses/helpers.py`` or ``tests/quizzes/helpers.py`` build them;
    without, ``course_files(**shape)`` (slug, title, modules, audiences, extra, ...).
    """

    def factory(
        files: dict[str, bytes] | None = None, *, user: User | None = None, **shape: Any
    ) -> CourseVersion:
        from courses import authoring
        from tests.courses.helpers import course_files

        if files is None:
            files = course_files(**shape)
        elif shape:
            raise TypeError("make_course: give files or a shape for course_files, not both")
        with service_context(app):  # the app's plugins read the course's blocks
            version = authoring.import_files(db.session, files, user=user, publish=True).version
            db.session.commit()
        return version

    return factory


def membership(user: User, org_code: str) -> Membership:
    from sqlalchemy import select

    org = organisation_by_code(db.session, org_code)
    found = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == org.id
        )
    )
    assert found is not None
    return found
