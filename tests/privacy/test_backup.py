"""Backup and restore round trip, on SQLite and (in the PostgreSQL run) on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from certificates.models import SigningKeyRecord
from lms import db
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.backup import row_counts
from lms.migrate import upgrade
from lms.organisations.services import seed_registry
from tests.conftest import make_test_app, own_database, separate_database


@pytest.mark.slow  # a whole backup and restore
def test_backup_and_restore_round_trip(tmp_path: Path):
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path, url)
        runner = app.test_cli_runner()
        try:
            with app.app_context():
                upgrade(app)
                seed_registry(db.session)
                people = [
                    create_user(
                        db.session,
                        f"persona{n}@rete-milano.test",
                        f"Persona {n}",
                        password="una-password-lunga",
                    )
                    for n in range(5)
                ]
                db.session.commit()
                pdf = _signed_certificate(app, people[0])
            pdf_file = tmp_path / "attestato.pdf"
            pdf_file.write_bytes(pdf)
            secret_before = (
                (Path(app.instance_path) / "secret_key").read_bytes()
                if (Path(app.instance_path) / "secret_key").exists()
                else None
            )
            counts_before = row_counts(app.extensions["lms"].engine)
            archive = tmp_path / "backup.tar.gz"
            result = runner.invoke(args=["lms", "backup", str(archive)])
            assert result.exit_code == 0, result.output
            assert oct(archive.stat().st_mode & 0o777) == "0o600"
            with app.app_context():  # lose data after the backup
                db.session.execute(delete(User).where(User.email.like("persona%")))
                db.session.execute(delete(SigningKeyRecord))  # keys lost too
                create_user(db.session, "dopo@rete-milano.test", "Dopo il Backup")
                db.session.commit()
                assert db.session.scalar(select(func.count(User.id))) == 1
            assert (
                runner.invoke(args=["lms", "certificates", "verify", str(pdf_file)]).exit_code != 0
            )
            result = runner.invoke(args=["lms", "restore", str(archive), "--yes"])
            assert result.exit_code == 0, result.output
            # A certificate signed before the backup verifies with the restored keys.
            verified = runner.invoke(args=["lms", "certificates", "verify", str(pdf_file)])
            assert verified.exit_code == 0, verified.output
            assert row_counts(app.extensions["lms"].engine) == counts_before
            with app.app_context():
                emails = set(db.session.scalars(select(User.email)))
            assert "dopo@rete-milano.test" not in emails and "persona3@rete-milano.test" in emails
            if secret_before is not None:
                assert (Path(app.instance_path) / "secret_key").read_bytes() == secret_before
        finally:
            app.extensions["lms"].engine.dispose()


def _signed_certificate(app, user) -> bytes:
    import datetime as dt

    from sqlalchemy import select as sql_select

    from certificates.documents import certificate_pdf
    from certificates.models import Certificate
    from lms.signals import CompletionEvent, completion_recorded

    completion_recorded.send(
        app,
        session=db.session,
        event=CompletionEvent(
            user_id=user.id,
            kind="course",
            key="course:backup",
            completion_ref="backup:1",
            title="Corso prima del backup",
            version_label="1",
            hours=1.0,
            completed_at=dt.datetime.now(dt.UTC),
        ),
    )
    db.session.commit()
    cert = db.session.scalar(
        sql_select(Certificate).where(Certificate.completion_ref == "backup:1")
    )
    with app.test_request_context():
        return certificate_pdf(cert)


def test_restore_refuses_a_corrupt_archive(tmp_path: Path, app):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tar file")
    result = app.test_cli_runner().invoke(args=["lms", "restore", str(bogus), "--yes"])
    assert result.exit_code == 1 and "Ripristino non riuscito" in result.output
