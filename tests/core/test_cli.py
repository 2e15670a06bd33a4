"""CLI commands, run through Flask's CLI runner on the test database."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from lms import db
from lms.accounts.models import User
from lms.organisations.models import Organisation
from lms.organisations.policy import referent_organisation_ids


def _run(app: Flask, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["lms", *args], input=input)


def test_seed_organisations_is_idempotent_and_complete(app: Flask):
    result = _run(app, "seed-organisations")
    assert result.exit_code == 0, result.output
    assert "organizzazioni create: 0" in result.output  # already seeded by the fixture
    names = set(db.session.scalars(select(Organisation.name)))
    for expected in (
        "Questura di Milano",
        "ASST Fatebenefratelli Sacco",
        "Municipio 9",
        "Associazione Lule Odv",
        "Tribunale per i Minorenni di Milano",
        "Ufficio Scolastico Territoriale di Milano",
    ):
        assert expected in names
    signatories = db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.signatory.is_(True))
    )
    assert signatories == 45  # as listed in the protocol's signature pages


def test_create_user_with_role_and_membership(app: Flask):
    result = _run(
        app,
        "create-user",
        "Nuova@Rete-Milano.test",
        "--name",
        "Nuova Formatrice",
        "--role",
        "trainer",
        "--organisation",
        "CDM-ADI",
        "--audience",
        "amministrazione",
        "--referent",
        "--password",
        "una-password-lunga",
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "nuova@rete-milano.test"))
    assert user is not None and user.has_role("trainer")
    assert len(referent_organisation_ids(user)) == 1


def test_create_user_refuses_bad_input_and_writes_nothing(app: Flask):
    before = db.session.scalar(select(func.count(User.id)))
    bad_email = _run(app, "create-user", "not-an-email", "--name", "X", "--password", "x" * 12)
    assert bad_email.exit_code != 0 and "non valido" in bad_email.output
    short = _run(app, "create-user", "ok@rete-milano.test", "--name", "X", "--password", "short")
    assert short.exit_code != 0 and "almeno 10 caratteri" in short.output
    unknown_org = _run(
        app,
        "create-user",
        "ok@rete-milano.test",
        "--name",
        "X",
        "--password",
        "x" * 12,
        "--organisation",
        "NOPE",
        "--audience",
        "scuola",
    )
    assert unknown_org.exit_code != 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id))) == before


def test_demo_creates_one_account_per_role_and_is_idempotent(app: Flask):
    first = _run(app, "demo")
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(func.count(User.id)))
    second = _run(app, "demo")
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count(User.id))) == count
    for email in (
        "admin@rete-milano.test",
        "coordinamento@rete-milano.test",
        "formatrice@rete-milano.test",
        "referente.pl@rete-milano.test",
        "referente.asst@rete-milano.test",
        "referente.cav@rete-milano.test",
    ):
        assert email in second.output
    referent = db.session.scalar(select(User).where(User.email == "referente.pl@rete-milano.test"))
    assert referent_organisation_ids(referent)


def test_init_db_is_safe_to_rerun(app: Flask):
    result = _run(app, "init-db")
    assert result.exit_code == 0, result.output
