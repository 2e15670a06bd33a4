"""Run ``lms`` commands in a subprocess, watch their transaction, SIGKILL them inside it.

Whether the command is inside a write transaction is asked of the database
itself, from another connection: on SQLite, ``BEGIN IMMEDIATE`` with no busy
timeout fails while another connection holds the write lock; on PostgreSQL,
another backend of the same database has a transaction id (assigned at its
first write). So a kill can be shown to land while rows are written and not
committed, not merely while the process is alive (start-up alone takes
seconds).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[2]
LMS = Path(sys.executable).with_name("lms")  # the console script of the venv
POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 120


def cli_env(url: str, instance: Path) -> dict[str, str]:
    """What the subprocess needs to run against ``url`` with ``instance``'s keys."""
    env = dict(os.environ)
    env.update(
        {
            "LMS_DATABASE_URL": url,
            "LMS_INSTANCE_PATH": str(instance),
            "LMS_SECRET_KEY": "test-secret-key-not-for-production",
            "LMS_MAIL_BACKEND": "file",
            "LMS_MAIL_FILE_DIR": str(instance / "mail"),
            "LMS_LOG_JSON": "0",
            "LMS_BASE_URL": "http://lms.test",
        }
    )
    return env


@contextmanager
def write_probe(url: str) -> Iterator[WriteProbe]:
    probe = SqliteProbe(url) if make_url(url).get_backend_name() == "sqlite" else PgProbe(url)
    try:
        yield probe
    finally:
        probe.close()


class WriteProbe(Protocol):
    def writing(self) -> bool:
        """Is another connection inside a write transaction right now?"""
        ...

    def close(self) -> None: ...


class SqliteProbe:
    def __init__(self, url: str) -> None:
        database = make_url(url).database
        assert database, url
        self.connection = sqlite3.connect(database, timeout=0, isolation_level=None)

    def writing(self) -> bool:
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return True
            raise
        self.connection.execute("ROLLBACK")
        return False

    def close(self) -> None:
        self.connection.close()


class PgProbe:
    QUERY = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
    )

    def __init__(self, url: str) -> None:
        # Autocommit: pg_stat_activity is a snapshot taken once per transaction.
        self.engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.connection = self.engine.connect()

    def writing(self) -> bool:
        return bool(self.connection.execute(self.QUERY).scalar())

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    writing_from: float | None  # first and last moment the probe saw a write transaction
    writing_until: float | None

    def into_writing(self, fraction: float) -> float:
        """Seconds from the opening of the write transaction to ``fraction`` of it."""
        assert self.writing_from is not None and self.writing_until is not None, (
            "the probe never saw the command's write transaction"
        )
        return fraction * (self.writing_until - self.writing_from)


@dataclass(frozen=True)
class Killed:
    writing_from: float | None  # seconds from the start
    at: float  # seconds from the start
    alive: bool  # proc.poll() was None right before the kill
    writing: bool  # the probe saw its write transaction open right before the kill
    returncode: int
    stdout: str
    stderr: str

    @property
    def mid_transaction(self) -> bool:
        return self.alive and self.writing and self.returncode == -signal.SIGKILL

    def describe(self) -> str:
        opened = "never" if self.writing_from is None else f"at {self.writing_from:.2f} s"
        return (
            f"write transaction opened {opened}, kill at {self.at:.2f} s "
            f"(alive={self.alive}, transaction open={self.writing}), "
            f"returncode {self.returncode}"
        )


def _start(args: list[str], env: dict[str, str], logs: Path) -> tuple[subprocess.Popen, Path, Path]:
    # Output goes to files: a full pipe would stall the child and skew the timing.
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / "stdout.txt", logs / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([str(LMS), *args], env=env, cwd=ROOT, stdout=stdout, stderr=stderr)
    return proc, out, err


def run_watched(args: list[str], env: dict[str, str], probe: WriteProbe, logs: Path) -> Finished:
    """Run to the end, noting when the probe sees the write transaction."""
    proc, out, err = _start(args, env, logs)
    started = time.monotonic()
    first = last = None
    while proc.poll() is None:
        elapsed = time.monotonic() - started
        assert elapsed < TIMEOUT_SECONDS, f"{args} still running after {elapsed:.0f} s"
        if probe.writing():
            first = elapsed if first is None else first
            last = elapsed
        time.sleep(POLL_SECONDS)
    seconds = time.monotonic() - started
    return Finished(proc.returncode, out.read_text(), err.read_text(), seconds, first, last)


def run_killed(
    args: list[str], env: dict[str, str], probe: WriteProbe, logs: Path, *, into: float
) -> Killed:
    """Start; once the write transaction is open, wait ``into`` seconds, check that it is
    still open and SIGKILL. If the command ends first, nothing is killed.

    Counting from the opening of the transaction leaves the start-up (seconds of
    imports, slower when the machine is busy) out of the aim.
    """
    proc, out, err = _start(args, env, logs)
    started = time.monotonic()
    opened = None
    while proc.poll() is None:
        elapsed = time.monotonic() - started
        assert elapsed < TIMEOUT_SECONDS, f"{args} still running after {elapsed:.0f} s"
        if probe.writing():
            opened = elapsed
            break
        time.sleep(POLL_SECONDS / 4)
    while proc.poll() is None and time.monotonic() - started < (opened or 0) + into:
        time.sleep(POLL_SECONDS)
    writing = False
    while proc.poll() is None and not (writing := probe.writing()):
        assert time.monotonic() - started < TIMEOUT_SECONDS, f"{args} never wrote again"
        time.sleep(POLL_SECONDS / 4)
    alive = proc.poll() is None
    killed_at = time.monotonic() - started
    if alive:
        proc.send_signal(signal.SIGKILL)
    returncode = proc.wait(timeout=TIMEOUT_SECONDS)
    return Killed(opened, killed_at, alive, writing, returncode, out.read_text(), err.read_text())


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LMS), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table: the whole database's state, as far as all-or-nothing goes."""
    with engine_for(url) as engine, engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        return {
            name: int(connection.scalar(select(func.count()).select_from(table(name))) or 0)
            for name in names
        }


def storage_problems(url: str) -> list[str]:
    """SQLite's own integrity and foreign-key checks (PostgreSQL enforces both itself)."""
    if make_url(url).get_backend_name() != "sqlite":
        return []
    with engine_for(url) as engine, engine.connect() as connection:
        integrity = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
        foreign = [
            str(tuple(row)) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")
        ]
    return [line for line in integrity if line != "ok"] + foreign


def difference(one: dict[str, int], other: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        name: (one.get(name, 0), other.get(name, 0))
        for name in sorted(set(one) | set(other))
        if one.get(name, 0) != other.get(name, 0)
    }


def added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


def plus(before: dict[str, int], delta: dict[str, int]) -> dict[str, int]:
    return {name: count + delta.get(name, 0) for name, count in before.items()}
