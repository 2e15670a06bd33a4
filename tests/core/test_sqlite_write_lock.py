"""On SQLite, a request that may write begins with the write lock (BEGIN IMMEDIATE):
begun deferred, its snapshot could not turn into a write after the job worker or
another gunicorn worker committed, and SQLite would answer "database is locked" at once
(seen on sign-in while a worker sent e-mail). Always on a SQLite file: the behaviour is
SQLite's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from flask import Flask

from lms.migrate import upgrade
from tests.conftest import csrf_token, make_test_app, own_database


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Flask:
    with own_database():
        app = make_test_app(tmp_path, f"sqlite:///{tmp_path / 'lock.sqlite3'}")
        with app.app_context():
            upgrade(app)
        yield app
        app.extensions["lms"].engine.dispose()


def _someone_else_can_write(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_a_post_holds_the_write_lock_from_its_first_statement(sqlite_app: Flask, tmp_path: Path):
    path = tmp_path / "lock.sqlite3"
    seen: dict[str, bool] = {}

    @sqlite_app.route("/probe", methods=["GET", "POST"])
    def probe() -> str:
        from flask import request

        seen[request.method] = _someone_else_can_write(path)
        return "ok"

    sqlite_app.extensions["lms"].blueprint_names.add(None)  # the probe is "ours"
    try:
        client = sqlite_app.test_client()
        client.get("/probe")
        token = csrf_token(client, "/account/login")
        response = client.post("/probe", data={"csrf_token": token})
        assert response.status_code == 200, response.status_code
    finally:
        sqlite_app.extensions["lms"].blueprint_names.discard(None)
    assert seen == {"GET": True, "POST": False}
