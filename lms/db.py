"""Database plumbing: declarative base, per-app engine, request-scoped session.

Plain SQLAlchemy 2.x rather than Flask-SQLAlchemy so that the platform can be
mounted into a host application that already owns ``app.extensions["sqlalchemy"]``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite has no time zone type, so values are stored naive-in-UTC there and
    re-labelled as UTC on the way out; PostgreSQL gets ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class _AppBoundSession(Session):
    """A session that finds its engine on the current app's LMS state."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        if self.bind is not None:
            return self.bind
        return current_app.extensions["lms"].engine


def _scope() -> int:
    # One session per application context (request, CLI command, test block).
    from flask import globals as flask_globals

    if has_app_context():
        return id(flask_globals.app_ctx._get_current_object())
    return 0


def new_session_class() -> type[_AppBoundSession]:
    """A session class of one app's own: the app's session hooks (the audit log's, a
    plugin's) are installed on it in ``init_app``, so another app's sessions never run them.
    It derives from the factory's class, which carries the hooks of every app."""
    return type("LMSSession", (session.session_factory.class_,), {})


class _PerAppSessionmaker(sessionmaker):  # type: ignore[type-arg]
    """Makes sessions of the current app's class (``LMSState.session_class``); outside an
    app, of the base class, which has no app's hooks."""

    def __call__(self, **local_kw: Any) -> Any:
        state = current_app.extensions.get("lms") if has_app_context() else None
        cls = state.session_class if state is not None else self.class_
        for key, value in self.kw.items():
            if key == "info" and "info" in local_kw:
                local_kw["info"] = {**value, **local_kw["info"]}
            else:
                local_kw.setdefault(key, value)
        return cls(**local_kw)


session: scoped_session[Session] = scoped_session(
    _PerAppSessionmaker(class_=_AppBoundSession, expire_on_commit=False), scopefunc=_scope
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (pysqlite's own is broken for
    # SAVEPOINT), then enable what a multi-process deployment needs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # "BEGIN IMMEDIATE" when asked (a retried write): take the write lock up front.
    mode = connection.get_execution_options().get("sqlite_begin", "")
    connection.exec_driver_sql(f"BEGIN {mode}".rstrip())


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> Engine:
    engine = make_engine(app.config["LMS_DATABASE_URL"])

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        session.remove()

    if engine.dialect.name == "sqlite":

        @app.before_request
        def _write_lock_first() -> None:
            """On SQLite, a request that may write takes the write lock with its first
            statement (BEGIN IMMEDIATE), waiting for it up to the busy timeout. Begun
            deferred, its read snapshot could not become a write once another process
            (the job worker, another gunicorn worker) had committed since: SQLite then
            answers "database is locked" at once instead of waiting."""
            from flask import request

            state = app.extensions.get("lms")
            if request.method not in UNSAFE_METHODS or state is None:
                return
            if request.blueprint not in state.blueprint_names:
                return
            begin_writing()

    return engine


def begin_writing() -> None:
    """Open the session's transaction as a writer on SQLite (BEGIN IMMEDIATE).

    SQLite waits for the write lock (up to the busy timeout) only when a transaction
    asks for it first; a transaction that has already read and then writes while
    another connection holds the lock fails at once with "database is locked". Every
    request or command that is going to write therefore asks first. A no-op on
    PostgreSQL and inside an open transaction.
    """
    if session.get_bind().dialect.name != "sqlite" or session().in_transaction():
        return
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def is_transient_conflict(error: Exception) -> bool:
    """A write that lost a race and may simply be retried.

    SQLite refuses to upgrade a read transaction whose snapshot is stale
    ("database is locked"); PostgreSQL reports serialisation failures and deadlocks.
    """
    from sqlalchemy.exc import OperationalError

    if not isinstance(error, OperationalError):
        return False
    message = str(error.orig).lower()
    code = getattr(error.orig, "sqlstate", None)
    return "database is locked" in message or code in {"40001", "40P01"}


def commit_with_retries(action: Any, *, attempts: int = 6, first_delay: float = 0.05) -> Any:
    """Run ``action()`` and commit; on a lost race, roll back and run it again.

    ``action`` must be idempotent (it re-reads what it needs). Used where two
    requests may write the same rows at once (double submits), on SQLite and
    PostgreSQL alike.
    """
    import random
    import time

    for attempt in range(attempts):
        try:
            result = action()
            session.commit()
            return result
        except Exception as error:
            if not is_transient_conflict(error) or attempt == attempts - 1:
                raise  # the caller decides what to keep (e.g. a recorded expiry)
            session.rollback()
            # Jitter, so that two losers do not collide again in step.
            time.sleep(first_delay * 2**attempt * random.uniform(0.5, 1.5))
            if session.get_bind().dialect.name == "sqlite":
                # SQLite refuses a read transaction's upgrade to writing at once, without
                # waiting; the retry takes the write lock first and waits its turn instead.
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    raise AssertionError("unreachable")
