"""The public address is known before anything is signed (issue 20, item 5).

``LMS_BASE_URL`` goes into every certificate's verification link and QR code for good:
outside development the platform refuses to start without it (as it refuses a missing
secret on a database server), issuing refuses if it is gone, and a certificate's link is
derived again from its code alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from certificates import codes
from certificates.config import verify_url
from certificates.documents import render_options
from certificates.models import Certificate
from lms import create_app, db
from lms.config import DEVELOPMENT_BASE_URL, ConfigurationError, check_base_url
from lms.signals import completion_recorded
from tests.certificates.conftest import event_for, pdf_bytes, pdf_text


def _config(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {
        "INSTANCE_PATH": str(tmp_path),
        "LMS_DATABASE_URL": "sqlite://",
        "LMS_SECRET_KEY": "base-url-test-secret",
        "LMS_LOG_JSON": False,
    } | extra


# --- Start-up ------------------------------------------------------------------------


def test_outside_development_the_app_refuses_to_start_without_a_base_url(
    tmp_path: Path, monkeypatch
):
    monkeypatch.delenv("LMS_BASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="LMS_BASE_URL is not set"):
        create_app(_config(tmp_path))
    with pytest.raises(ConfigurationError, match="LMS_BASE_URL is not set"):
        create_app(_config(tmp_path, LMS_BASE_URL=""))


def test_the_environment_gives_the_address(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LMS_BASE_URL", "https://formazione.example.it/")
    app = create_app(_config(tmp_path))
    assert app.config["LMS_BASE_URL"] == "https://formazione.example.it"  # no trailing slash


@pytest.mark.parametrize("flag", ["DEBUG", "TESTING"])
def test_development_falls_back_to_the_local_address(tmp_path: Path, monkeypatch, flag: str):
    monkeypatch.delenv("LMS_BASE_URL", raising=False)
    app = create_app(_config(tmp_path, **{flag: True}))
    assert app.config["LMS_BASE_URL"] == DEVELOPMENT_BASE_URL == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    "value",
    [
        "formazione.example.it",  # no scheme
        "ftp://formazione.example.it",
        "https://",
        "https://formazione.example.it/?x=1",
        "https://formazione.example.it/#top",
        "https://formazione example.it",
        "https://" + "a" * 600 + ".it",
    ],
)
def test_an_address_that_cannot_be_linked_is_refused(tmp_path: Path, value: str):
    with pytest.raises(ConfigurationError, match="LMS_BASE_URL must be"):
        create_app(_config(tmp_path, LMS_BASE_URL=value))


def test_a_path_prefix_is_kept() -> None:
    assert check_base_url("https://rete.example.it/formazione/") == (
        "https://rete.example.it/formazione"
    )


def test_the_command_line_refuses_too_and_names_the_variable(tmp_path: Path):
    """A real ``lms`` process on SQLite (no secret needed there) without the address."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LMS_", "FLASK_"))}
    env |= {
        "LMS_INSTANCE_PATH": str(tmp_path),
        "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    lms = Path(sys.executable).with_name("lms")
    refused = subprocess.run([lms, "init-db"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.startswith("lms: LMS_BASE_URL is not set")  # said, not a traceback
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "cli.sqlite3").exists() or _no_certificates(tmp_path)


def _no_certificates(tmp_path: Path) -> bool:
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.sqlite3") as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    return "certificates_certificate" not in tables


# --- Issuing -------------------------------------------------------------------------


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate)) or 0


def test_issuing_refuses_without_a_base_url(app: Flask, make_user, monkeypatch):
    """A command or a worker whose address was emptied after start-up (a host application
    changing its config) issues nothing: the completion fails with the variable's name."""
    user = make_user()
    before = _count()
    monkeypatch.setitem(app.config, "LMS_BASE_URL", None)
    with pytest.raises(ConfigurationError, match="LMS_BASE_URL"):
        completion_recorded.send(app, session=db.session, event=event_for(user))
    db.session.rollback()
    assert _count() == before


def test_a_certificate_is_never_drawn_with_a_spoilt_address(
    app: Flask, make_user, complete, monkeypatch
):
    cert = complete(make_user())
    monkeypatch.setitem(app.config, "LMS_BASE_URL", "")
    with app.test_request_context(), pytest.raises(ConfigurationError, match="LMS_BASE_URL"):
        render_options(cert)


# --- The link from the code alone ------------------------------------------------------


def test_the_verification_link_is_derived_from_the_code_alone(
    app: Flask, client, make_user, complete
):
    cert = complete(make_user())
    with app.test_request_context():
        printed = render_options(cert).verify_url
    # From nothing but the code, as typed or read aloud: the same link.
    grouped = codes.grouped(cert.code)
    spoken = grouped.lower().replace("-", " ")
    with app.app_context():  # outside any request, as a command or a worker would
        assert verify_url(cert.code) == printed
        assert verify_url(grouped) == printed
        assert verify_url(spoken) == printed
    assert printed == f"http://lms.test/certificates/verify/{grouped}"
    assert printed in pdf_text(pdf_bytes(app, cert)).replace("\n", "")
    # ... and the link opens the certificate's page.
    page = client.get(urlsplit(printed).path)
    assert page.status_code == 200
    assert cert.serial in page.get_data(as_text=True)


def test_a_string_that_is_no_code_gives_no_link(app: Flask):
    with app.app_context(), pytest.raises(ValueError):
        verify_url("not-a-code")
