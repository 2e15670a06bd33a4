"""One set of signing keys for the installation, in the database (issue 21, item 3).

Keys of earlier versions, kept per host in ``instance/certificate-keys/``, are imported by
``lms init-db`` so that what they signed keeps verifying; the private keys are encrypted
under ``LMS_SECRET_KEY``; hosts racing to create the first key agree on one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import select

from certificates import keys, signing
from certificates.models import SigningKeyRecord
from certificates.verification import Outcome, check_payload
from lms import db
from lms.accounts.services import create_user
from lms.migrate import upgrade
from tests.certificates.conftest import event_for, pdf_bytes, race_hosts, replace_attachments
from tests.certificates.test_verification import attachments, cli_verify
from tests.conftest import make_test_app, own_database, separate_database


@contextmanager
def fresh_installation(tmp_path: Path, name: str = "host-a") -> Iterator[tuple[Flask, str]]:
    """An app on a database of its own (real commits), with its own instance folder."""
    with separate_database(tmp_path) as url, own_database():
        app = make_test_app(tmp_path / name, url)
        try:
            yield app, url
        finally:
            app.extensions["lms"].engine.dispose()


def old_folder(directory: Path, count: int) -> list[Ed25519PrivateKey]:
    """A ``certificate-keys`` folder as earlier versions wrote it; the last key current."""
    directory.mkdir(parents=True)
    made = []
    for _ in range(count):
        private = Ed25519PrivateKey.generate()
        key_id = keys.key_id_of(private.public_key())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (directory / f"{key_id}.key").write_bytes(pem)
        (directory / f"{key_id}.pub").write_text(keys.public_pem(private.public_key()))
        (directory / "current").write_text(key_id)
        made.append(private)
    return made


def resigned(pdf: bytes, private: Ed25519PrivateKey) -> bytes:
    """The certificate as it would have been signed by ``private`` (a key of before)."""
    payload, _signature = attachments(pdf)
    content = json.loads(payload)
    content["key_id"] = keys.key_id_of(private.public_key())
    signed = signing.canonical(content)
    signature = signing.sign(signed, keys.SigningKey(content["key_id"], private))
    return replace_attachments(
        pdf, signed, signing.signature_document(content["key_id"], signature)
    )


def init_db(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["lms", "init-db"])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_db_imports_old_keys_and_what_they_signed_still_verifies(tmp_path: Path):
    with fresh_installation(tmp_path) as (app, _url):
        folder = keys.keys_dir(app.instance_path)
        older, current = old_folder(folder, 2)
        output = init_db(app)
        assert "importate" in output and "creata" not in output  # no new key: the old one
        with app.app_context():
            records = db.session.scalars(
                select(SigningKeyRecord).order_by(SigningKeyRecord.generation)
            ).all()
            assert [r.key_id for r in records] == [
                keys.key_id_of(k.public_key()) for k in (older, current)
            ]
            secret = app.config["LMS_SECRET_KEY"]
            assert keys.signing_key(db.session, secret).key_id == records[-1].key_id
            user = create_user(db.session, "prima@rete-milano.test", "Persona di Prima")
            db.session.commit()
            from certificates.config import issuer_settings
            from certificates.issuing import issue

            cert = issue(db.session, event_for(user), issuer_settings(app))
            db.session.commit()
            assert cert.key_id == records[-1].key_id  # the old current key goes on signing
            pdf = pdf_bytes(app, cert)
        result = cli_verify(app, tmp_path, pdf)
        assert result.exit_code == 0 and "VALIDO" in result.output, result.output
        # Signed before the rotation, too: the payload verifies; the PDF is rebuilt without
        # a PDF signature (as an old download would be), so the document is unconfirmed.
        result = cli_verify(app, tmp_path, resigned(pdf, older))
        assert result.exit_code == 7 and "firma dei dati valida" in result.output, result.output

        # A second host's own folder (each host had its keys): imported below, verifiable;
        # the installation's current key stays. Running init-db again changes nothing.
        other_host = tmp_path / "host-b" / "instance"
        (stray,) = old_folder(keys.keys_dir(other_host), 1)
        with app.app_context():
            imported = keys.install(db.session, app.config["LMS_SECRET_KEY"], other_host)
            db.session.commit()
            assert len(imported) == 1
        assert "importate" not in init_db(app)
        with app.app_context():
            public = keys.public_keys(db.session)
            assert len(public) == 3
            assert keys.current_key_id(db.session, "unused") == cert.key_id
        payload, signature_doc = attachments(resigned(pdf, stray))
        assert check_payload(payload, signature_doc, public).outcome is Outcome.VALID


def test_init_db_creates_the_first_key_once(tmp_path: Path):
    with fresh_installation(tmp_path) as (app, _url):
        assert "creata" in init_db(app)
        assert "creata" not in init_db(app)
        with app.app_context():
            assert len(keys.public_keys(db.session)) == 1
        assert not keys.keys_dir(app.instance_path).exists()  # nothing kept per host


def test_init_db_with_another_secret_fails_at_once(tmp_path: Path):
    with fresh_installation(tmp_path) as (app, _url):
        init_db(app)
        secret = app.config["LMS_SECRET_KEY"]
        app.config["LMS_SECRET_KEY"] = "not-the-installation-secret"
        try:
            result = app.test_cli_runner().invoke(args=["lms", "init-db"])
        finally:
            app.config["LMS_SECRET_KEY"] = secret
        assert result.exit_code != 0
        assert "another LMS_SECRET_KEY" in str(result.exception)


def test_private_keys_are_encrypted_under_the_secret(tmp_path: Path, monkeypatch):
    with fresh_installation(tmp_path) as (app, _url):
        init_db(app)
        secret = app.config["LMS_SECRET_KEY"]
        with app.app_context():
            record = db.session.scalars(select(SigningKeyRecord)).one()
            key = keys.signing_key(db.session, secret)
            raw = key.private_key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            assert record.private_sealed and raw.hex() not in record.private_sealed
            assert "PRIVATE" not in record.private_sealed
            assert raw not in base64.b64decode(record.private_sealed[3:])
            with pytest.raises(keys.KeyStoreError, match="another LMS_SECRET_KEY"):
                keys.signing_key(db.session, "a-different-secret")

        # Changing the secret: rewrap with the old one, then only the new one unlocks it.
        monkeypatch.setenv("LMS_OLD_SECRET_KEY", secret)
        app.config["LMS_SECRET_KEY"] = "the-new-installation-secret"
        try:
            result = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "rewrap"])
            assert result.exit_code == 0 and ": 1." in result.output, result.output
            with app.app_context():
                new = keys.signing_key(db.session, "the-new-installation-secret")
                assert new.key_id == key.key_id
                with pytest.raises(keys.KeyStoreError):
                    keys.signing_key(db.session, secret)
        finally:
            app.config["LMS_SECRET_KEY"] = secret


def test_hosts_racing_for_the_first_key_agree_on_one(tmp_path: Path):
    with fresh_installation(tmp_path) as (app, url):
        with app.app_context():
            upgrade(app)  # schema only, as ``lms db upgrade``: no key yet
        other = make_test_app(tmp_path / "host-b", url)  # a second host, same database

        def first_use(host: Flask) -> str:
            secret = host.config["LMS_SECRET_KEY"]
            return db.commit_with_retries(lambda: keys.signing_key(db.session, secret)).key_id

        got = race_hosts([other, app], first_use, 8)
        other.extensions["lms"].engine.dispose()
        assert len(set(got)) == 1
        with app.app_context():
            assert len(keys.public_keys(db.session)) == 1
        for host in ("host-a", "host-b"):
            assert not keys.keys_dir(tmp_path / host / "instance").exists()


def test_rotation_keeps_old_keys_and_export_writes_them(app: Flask, tmp_path: Path):
    secret = app.config["LMS_SECRET_KEY"]
    first = keys.current_key_id(db.session, secret)
    second = keys.rotate(db.session, secret)
    assert keys.current_key_id(db.session, secret) == second != first
    assert list(keys.public_keys(db.session)) == [first, second]
    db.session.commit()
    out = tmp_path / "export"
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {f"{first}.pub", f"{second}.pub"}
