"""The secret key rule (docs/deployment.md): the environment wins; SQLite keeps its
instance file; a database server without ``LMS_SECRET_KEY`` refuses to start, so two
hosts can never sign with secrets of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lms import create_app
from lms.config import ConfigurationError, is_sqlite

POSTGRES_URL = "postgresql+psycopg://nobody@/nowhere?host=/nonexistent"


def _config(tmp_path: Path, url: str, **extra: str) -> dict[str, str | bool]:
    return {
        "INSTANCE_PATH": str(tmp_path),
        "LMS_DATABASE_URL": url,
        "LMS_LOG_JSON": False,
        "LMS_BASE_URL": "http://lms.test",
    } | extra


def test_a_database_server_without_a_secret_refuses_to_start(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="lms secret-key"):
        create_app(_config(tmp_path, POSTGRES_URL))
    assert not (tmp_path / "secret_key").exists()  # never generated for this host alone


def test_the_environment_wins_everywhere(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", "from-the-environment")
    for url in (POSTGRES_URL, f"sqlite:///{tmp_path / 'x.sqlite3'}"):
        app = create_app(_config(tmp_path, url))
        assert app.config["SECRET_KEY"] == app.config["LMS_SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_sqlite_keeps_its_instance_file(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    first = create_app(_config(tmp_path, "sqlite://"))
    again = create_app(_config(tmp_path, "sqlite+pysqlite://"))
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").read_text().strip() == first.config["SECRET_KEY"]


def test_is_sqlite() -> None:
    assert is_sqlite("sqlite://") and is_sqlite("sqlite+pysqlite:///x")
    assert not is_sqlite(POSTGRES_URL) and not is_sqlite("postgresql://x/y")


def test_lms_secret_key_prints_a_new_secret_without_a_configured_app(tmp_path: Path):
    """It must run where the app itself refuses to start (a server database, no secret)."""
    env = {k: v for k, v in os.environ.items() if k != "LMS_SECRET_KEY"}
    env |= {"LMS_DATABASE_URL": POSTGRES_URL, "LMS_INSTANCE_PATH": str(tmp_path)}
    lms = Path(sys.executable).with_name("lms")
    runs = [
        subprocess.run([lms, "secret-key"], env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    first, second = (run.stdout.strip() for run in runs)
    assert len(first) >= 60 and first != second
    refused = subprocess.run([lms, "init-db"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "LMS_SECRET_KEY" in refused.stderr
