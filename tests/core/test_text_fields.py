"""Issue 16: one-line text (titles, names, places) and the mail headers built from it."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from wtforms import Form, StringField

from commitments.staff import files as staff_files
from commitments.staff import importing as staff_import
from lms import db, mail, text
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.errors import ServiceError
from lms.forms import SingleLine
from lms.organisations.services import organisation_by_code
from tests.conftest import login, post_form

BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("brk", BREAKS)
def test_every_line_break_is_refused(brk):
    assert len(f"a{brk}b".splitlines()) == 2  # what Python, e-mail and terminals split on
    with pytest.raises(text.LineBreakError, match="non può contenere a capo"):
        text.single_line(f"a{brk}b")
    assert text.flatten(f"a{brk}b") == "a b"
    assert "\n" not in text.visible(f"a{brk}b") and len(text.visible(f"a{brk}b").splitlines()) == 1


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\u202e", "\ud800"])
def test_control_characters_are_refused(char):
    with pytest.raises(text.ControlCharacterError, match=f"U\\+{ord(char):04X}"):
        text.single_line(f"a{char}b")
    assert text.flatten(f"a{char}b") == "a b"
    assert char not in text.visible(f"a{char}b")


def test_normalisation_keeps_what_people_type():
    assert text.single_line("  Cafe\u0301 \t in\u00a0 rete ") == "Café in rete"
    assert text.single_line("Nguyễn Thị Minh — D'Annunzio") == "Nguyễn Thị Minh — D'Annunzio"
    assert text.single_line("") == ""
    assert text.visible("Corso\\n vero\u2028x") == "Corso\\n vero\\u2028x"


def test_the_validator_uses_the_fields_words_and_normalises():
    class TitleForm(Form):
        title = StringField(validators=[SingleLine(what="Il titolo")])

    form = TitleForm(data={"title": "Riga uno\r\nriga due"})
    assert not form.validate()
    assert form.title.errors == ["Il titolo non può contenere a capo: scrivilo su una riga."]
    form = TitleForm(data={"title": " Una  riga "})
    assert form.validate() and form.title.data == "Una riga"


def test_mail_headers_come_only_from_safe_values(app: Flask):
    with app.app_context():
        message = mail.build_message("a@esempio.test", "Oggetto\r\nBcc: b@esempio.test", "x\ny")
        assert message["Subject"] == "Oggetto Bcc: b@esempio.test" and message["Bcc"] is None
        assert message.get_content() == "x\ny\n"  # the body keeps its lines
        with pytest.raises(mail.MailError):
            mail.build_message("a@esempio.test\r\nBcc: b@esempio.test", "Oggetto", "x")
        app.config["LMS_MAIL_FROM"], before = (
            "lms@x.test\nBcc: b@x.test",
            app.config["LMS_MAIL_FROM"],
        )
        try:
            with pytest.raises(mail.MailError):
                mail.build_message("a@esempio.test", "Oggetto", "x")
        finally:
            app.config["LMS_MAIL_FROM"] = before


def test_account_names_are_one_line(in_app_context):
    with pytest.raises(ServiceError, match="Il nome non può contenere a capo"):
        create_user(db.session, "a@esempio.test", "Anna\nRossi")
    with pytest.raises(ServiceError, match="U\\+0000"):
        create_user(db.session, "a@esempio.test", "Anna\x00Rossi")
    user = create_user(db.session, "a@esempio.test", "  Anna   Rossi ")
    assert user.full_name == "Anna Rossi"


def test_create_user_command_refuses_a_name_with_a_line_break(app: Flask):
    result = app.test_cli_runner().invoke(
        args=["lms", "create-user", "cli@esempio.test", "--name", "Anna\r\nRossi"],
        env={"LMS_NEW_PASSWORD": "una password lunga e buona"},
    )
    assert result.exit_code != 0
    assert "Il nome non può contenere a capo" in result.output
    assert db.session.scalar(select(User).where(User.email == "cli@esempio.test")) is None


def test_referent_inviting_a_name_with_a_line_break_is_told_to_remove_it(
    app: Flask, make_user, outbox
):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    client = app.test_client()
    login(client, referent.email)
    page = f"/organisations/{organisation_by_code(db.session, 'CDM-PL-NTDM').id}/"
    person = {"email": "nuova@esempio.test", "audience": "polizia_locale"}
    refused = post_form(client, page, {**person, "full_name": "Nuova\r\nAgente"})
    assert refused.status_code == 200
    assert "Il nome non può contenere a capo: scrivilo su una riga." in refused.get_data(
        as_text=True
    )
    assert db.session.scalar(select(User).where(User.email == "nuova@esempio.test")) is None
    assert post_form(client, page, {**person, "full_name": "Nuova  Agente"}).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nuova@esempio.test"))
    assert user is not None and user.full_name == "Nuova Agente"


def test_staff_import_rows_with_line_breaks_are_refused(app: Flask, make_user):
    with app.app_context():
        organisation = organisation_by_code(db.session, "CDM-PL-NTDM")
        rows = [
            staff_files.RawRow(2, "uno@x.test", "Uno\nDue", "scuola"),
            staff_files.RawRow(3, "tre@x.test", "Tre\u2029Quattro", "scuola"),
            staff_files.RawRow(4, "cinque@x.test", "Cinque  Sei", "scuola"),
        ]
        plan = staff_import.plan_import(db.session, organisation, rows)
        assert [str(e) for e in plan.errors] == [
            "Riga 2: il nome non può contenere a capo: scrivilo su una riga.",
            "Riga 3: il nome non può contenere a capo: scrivilo su una riga.",
        ]
