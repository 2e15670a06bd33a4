"""Backups: the database and the instance folder (secret key, signing keys) in one file.

SQLite is copied with its online backup API (consistent while the app runs);
PostgreSQL with ``pg_dump``/``pg_restore`` (custom format). A manifest records
row counts, so a restore can prove it brought everything back.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import Engine, make_url

from lms import clock

INSTANCE_ITEMS = ("secret_key", "certificate-keys")
MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    pass


def row_counts(engine: Engine) -> dict[str, int]:
    names = sorted(n for n in inspect(engine).get_table_names() if n != "sqlite_sequence")
    with engine.connect() as connection:
        return {
            name: int(connection.scalar(select(func.count()).select_from(table(name))))
            for name in names
        }


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise BackupError(f"{name} not found: install PostgreSQL client tools")
    return str(candidates[-1])


def _libpq_url(engine: Engine) -> str:
    url = make_url(engine.url.render_as_string(hide_password=False))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(app: Flask, target: Path) -> dict[str, Any]:
    engine: Engine = app.extensions["lms"].engine
    manifest: dict[str, Any] = {
        "created_at": clock.now().isoformat(),
        "dialect": engine.dialect.name,
        "row_counts": row_counts(engine),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if engine.dialect.name == "sqlite":
            source = sqlite3.connect(engine.url.database)
            destination = sqlite3.connect(work / "database.sqlite3")
            with destination:
                source.backup(destination)
            source.close()
            destination.close()
            database_file = "database.sqlite3"
        elif engine.dialect.name == "postgresql":
            database_file = "database.dump"
            subprocess.run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    f"--file={work / database_file}",
                    _libpq_url(engine),
                ],
                check=True,
                capture_output=True,
            )
        else:
            raise BackupError(f"unsupported database {engine.dialect.name}")
        manifest["database_file"] = database_file
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as archive:
            archive.add(work / database_file, arcname=database_file)
            instance = Path(app.instance_path)
            for item in INSTANCE_ITEMS:
                if (instance / item).exists():
                    archive.add(instance / item, arcname=f"instance/{item}")
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    os.chmod(target, 0o600)  # it holds the signing keys
    return manifest


def restore(app: Flask, source: Path) -> dict[str, Any]:
    """Replace the database and instance keys with a backup's; check row counts."""
    engine: Engine = app.extensions["lms"].engine
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(source, "r:gz") as archive:
        archive.extractall(tmp, filter="data")
        work = Path(tmp)
        manifest = json.loads((work / MANIFEST).read_text())
        if manifest["dialect"] != engine.dialect.name:
            raise BackupError(f"backup of {manifest['dialect']}, database is {engine.dialect.name}")
        engine.dispose()
        if engine.dialect.name == "sqlite":
            source_db = sqlite3.connect(work / manifest["database_file"])
            destination = sqlite3.connect(engine.url.database)
            with destination:
                source_db.backup(destination)
            source_db.close()
            destination.close()
        else:
            subprocess.run(
                [
                    _pg_tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={_libpq_url(engine)}",
                    str(work / manifest["database_file"]),
                ],
                check=True,
                capture_output=True,
            )
        instance = Path(app.instance_path)
        instance.mkdir(parents=True, exist_ok=True)
        for item in INSTANCE_ITEMS:
            restored = work / "instance" / item
            if not restored.exists():
                continue
            destination_path = instance / item
            if destination_path.is_dir():
                shutil.rmtree(destination_path)
            elif destination_path.exists():
                destination_path.unlink()
            if restored.is_dir():
                shutil.copytree(restored, destination_path)
                for key in destination_path.rglob("*"):
                    if key.is_file():
                        key.chmod(0o600 if key.suffix != ".pem" else 0o644)
            else:
                shutil.copy2(restored, destination_path)
                destination_path.chmod(0o600)
    counts = row_counts(engine)
    if counts != manifest["row_counts"]:
        raise BackupError("row counts after restore differ from the backup's manifest")
    return manifest
