"""Shared plumbing: throwaway apps and databases, timers, the PostgreSQL cluster."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
BENCH_PASSWORD = "Bench-password-2026"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def app_config(instance: Path, url: str, **overrides: Any) -> dict[str, Any]:
    config = {
        "INSTANCE_PATH": str(instance),
        "LMS_DATABASE_URL": url,
        "LMS_SECRET_KEY": SECRET_KEY,
        "LMS_LOG_JSON": False,
        "LMS_MAIL_BACKEND": "file",
        "LMS_MAIL_FILE_DIR": str(instance / "mail"),
        "LMS_BASE_URL": "http://127.0.0.1",
    }
    config.update(overrides)
    return config


def make_app(instance: Path, url: str, **overrides: Any) -> Any:
    """The platform with every installed plugin, quiet logs, on ``url``."""
    import logging

    from lms import create_app

    app = create_app(app_config(instance, url, **overrides))
    for name in ("lms", "courses", "quizzes", "certificates", "commitments"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app


def fresh_schema(app: Any) -> None:
    """Empty the database of ``app`` (PostgreSQL: drop the schema) and migrate it."""
    from lms import db
    from lms.migrate import upgrade
    from lms.organisations.services import seed_registry

    engine = app.extensions["lms"].engine
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    with app.app_context():
        upgrade(app)
        seed_registry(db.session)
        db.session.commit()


def sqlite_url(directory: Path, name: str = "bench.sqlite3") -> str:
    return f"sqlite:///{directory / name}"


class Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


# --- A throwaway PostgreSQL cluster, as tools/run-tests starts it ---------------------------


def postgres_bin() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    )
    if found and (found[-1] / "pg_ctl").exists():
        return found[-1]
    return None


@contextlib.contextmanager
def postgres_cluster(port: int = 55433) -> Iterator[str]:
    """A cluster in a temp dir on a unix socket there, stopped whatever happens.

    Yields the SQLAlchemy URL of a database ``lmsbench``.
    """
    pgbin = postgres_bin()
    if pgbin is None:
        raise RuntimeError("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin)")
    pgdir = Path(tempfile.mkdtemp(prefix="lms-bench-pg."))
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(pgdir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    data = pgdir / "data"

    def run(*args: str, log_name: str) -> None:
        with open(pgdir / log_name, "ab") as out:
            subprocess.run([*as_pg, *args], check=True, stdout=out, stderr=subprocess.STDOUT)

    try:
        run(
            str(pgbin / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            log_name="initdb.log",
        )
        options = (
            f"-k {pgdir} -p {port} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        run(
            str(pgbin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(pgdir / "server.log"),
            "-w",
            "start",
            "-o",
            options,
            log_name="pg_ctl.log",
        )
        run(
            str(pgbin / "createdb"),
            "-h",
            str(pgdir),
            "-p",
            str(port),
            "-U",
            "postgres",
            "lmsbench",
            log_name="createdb.log",
        )
        yield f"postgresql+psycopg://postgres@/lmsbench?host={pgdir}&port={port}"
    finally:
        subprocess.run(
            [*as_pg, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(pgdir, ignore_errors=True)


def postgres_version() -> str:
    pgbin = postgres_bin()
    if pgbin is None:
        return ""
    out = subprocess.run([str(pgbin / "postgres"), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


BIG_COMMITMENT = "bench-polizia-locale"


def big_dashboard_path(app: Any, organisation_id: int) -> str:
    """The referent dashboard on the big organisation's own commitment (its staff × 10
    required courses), not on whichever tab the page opens by default."""
    from sqlalchemy import select

    from commitments.models import Commitment
    from lms import db

    with app.app_context():
        commitment_id = db.session.scalar(
            select(Commitment.id).where(Commitment.code == BIG_COMMITMENT)
        )
        db.session.remove()
    return f"/commitments/organisations/{organisation_id}/?c={commitment_id}"
