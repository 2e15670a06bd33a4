"""Monitoring exports: CSV and XLSX contents, formula escaping, the one-page PDF."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from commitments.reporting.exports import safe_cell
from lms import clock, db
from lms.accounts.services import create_user
from lms.audit import AuditEntry
from lms.organisations.services import add_member, organisation_by_code
from tests.commitments.helpers import PL, complete, make_commitment, one_module, org_id
from tests.conftest import login

# A fixed instant at noon, far from midnight and daylight-saving changes: the export
# prints dates in Europe/Rome, and a wall-clock NOW made the expected day drift.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fixed_clock():
    clock.set_now(NOW)
    yield


DANGEROUS = ['=HYPERLINK("http://x")', "+39 02 1234", "-Mario", "@SOMMA(A1)"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "+1"),  # a plain number is no formula
        ("+39 02 1234", "'+39 02 1234"),
        ("-1", "-1"),
        ("-1+1", "'-1+1"),
        ("@A1", "'@A1"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Anna", "Anna"),
        ("a=b", "a=b"),
        (42, 42),
        ("", ""),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def org_with_staff(app, make_user, two_courses):
    network, specific = two_courses
    with app.app_context():
        make_commitment([network, specific], title="Impegno Polizia Locale")
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        anna = make_user(org=PL, name="Anna Rossi")
        complete(anna, network, NOW - dt.timedelta(days=40))
        complete(anna, specific, NOW - dt.timedelta(days=2))
        organisation = organisation_by_code(db.session, PL)
        for i, name in enumerate(DANGEROUS):
            email = f"pericolo{i}@x.test"
            create_user(db.session, email, name)
            add_member(
                db.session,
                organisation,
                email=email,
                full_name=name,
                audience_code="polizia_locale",
            )
        db.session.commit()
        return referent, anna


def client_for(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


def url(app, path: str) -> str:
    with app.app_context():
        return f"/commitments/organisations/{org_id(PL)}/{path}"


def test_csv_export_contents_and_escaping(app, make_user, two_courses):
    referent, _anna = org_with_staff(app, make_user, two_courses)
    response = client_for(app, referent).get(url(app, "export.csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = dt.datetime.now(dt.UTC).date()
    assert "impegni-cdm-pl-ntdm-" in response.headers["Content-Disposition"]
    assert response.data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(response.data[3:].decode("utf-8")), delimiter=";"))
    header = rows[0]  # the header first: no metadata line above it
    assert all(len(row) == len(header) for row in rows)  # one table
    assert header[:6] == [
        "Impegno",
        "Nome e cognome",
        "E-mail",
        "Profilo",
        "Stato",
        "Valido fino al",
    ]
    assert (
        "Corso della Rete – stato" in header and "Corso Polizia Locale – valido fino al" in header
    )
    people = {row[1]: row for row in rows[1:]}
    anna = people["Anna Rossi"]
    assert anna[4] == "Completato"
    assert (
        anna[5]
        == (NOW - dt.timedelta(days=40))
        .date()
        .replace(year=(NOW - dt.timedelta(days=40)).year + 3)
        .isoformat()
    )
    for name in DANGEROUS:
        assert "'" + name in people, f"{name!r} not escaped"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "commitments.matrix_exported")
        )
    assert entry.actor_id == referent.id and entry.details["format"] == "csv"
    # The date of the situation is in the file's name (no metadata line in the table).
    disposition = response.headers["Content-Disposition"]
    assert re.search(r"impegni-cdm-pl-ntdm-(\d{4}-\d{2}-\d{2})", disposition).group(1) <= (
        today.isoformat()
    )


def test_xlsx_export_opens_with_summary_matrix_and_escaping(app, make_user, two_courses):
    referent, _anna = org_with_staff(app, make_user, two_courses)
    response = client_for(app, referent).get(url(app, "export.xlsx"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[0] == "Riepilogo"
    summary = workbook["Riepilogo"]
    assert summary["B1"].value.startswith("Comune di Milano")
    titles = [row[0].value for row in summary.iter_rows(min_row=5)]
    assert "Impegno Polizia Locale" in titles
    counts = next(r for r in summary.iter_rows(min_row=5, values_only=True) if r[0] == titles[0])
    assert counts[1] == 5 and counts[2] == 1  # in scope, valid
    sheet = workbook[workbook.sheetnames[1]]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    names = {row[1] for row in values[1:]}
    assert "Anna Rossi" in names
    for name in DANGEROUS:
        assert "'" + name in names
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value!r}"
    anna_row = next(row for row in sheet.iter_rows() if row[1].value == "Anna Rossi")
    assert isinstance(anna_row[5].value, dt.datetime)  # "valido fino al" is a real date
    assert anna_row[5].number_format == "DD/MM/YYYY"


def test_exports_for_a_chosen_date(app, make_user, two_courses):
    referent, _anna = org_with_staff(app, make_user, two_courses)
    day = (NOW - dt.timedelta(days=10)).date().isoformat()
    response = client_for(app, referent).get(url(app, f"export.csv?on={day}"))
    text = response.data.decode("utf-8-sig")
    assert day in response.headers["Content-Disposition"]
    # Ten days ago the members did not exist yet (created today): an empty matrix.
    assert "Anna Rossi" not in text
    future = (NOW + dt.timedelta(days=10)).date().isoformat()
    refused = client_for(app, referent).get(url(app, f"export.xlsx?on={future}"))
    assert refused.status_code == 302


def test_pdf_summary_is_one_page_with_counts_and_no_names(app, make_user, two_courses):
    referent, _anna = org_with_staff(app, make_user, two_courses)
    response = client_for(app, referent).get(url(app, "summary.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Nucleo Tutela Donna e Minori" in text
    assert "Impegno Polizia Locale" in text
    assert "Copertura 20 %" in text and "(1 su 5 persone)" in text
    assert "obiettivo 80 %" in text
    assert "Nessuna iscrizione" in text and "In scadenza" in text
    assert "Anna Rossi" not in text and "Mario" not in text
    fonts = {
        str(font.get("/BaseFont"))
        for font in reader.pages[0]["/Resources"]["/Font"].values()
        for font in [font.get_object()]
    }
    assert any("NotoSans" in f for f in fonts)


def test_pdf_stays_on_one_page_with_many_commitments(app, make_user, make_course):
    with app.app_context():
        courses = [make_course(**one_module(f"corso-{i}", f"Corso numero {i}")) for i in range(9)]
        db.session.commit()
        for i, course in enumerate(courses):
            make_commitment([course], code=f"impegno-{i}", title=f"Impegno numero {i}")
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        make_user(org=PL, name="Una Persona")
    response = client_for(app, referent).get(url(app, "summary.pdf"))
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Altri 3 impegni: vedi l'esportazione XLSX." in text


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Polizia Locale: la Rete e l'accoglienza delle donne", "Polizia Locale - la Rete e"),
        ("Corso [base] / rinnovo?", "Corso base - rinnovo"),
        ("Breve", "Breve"),
        ("x" * 40, "x" * 31),
    ],
)
def test_sheet_titles_are_readable_and_valid(title, expected):
    from commitments.reporting.exports import sheet_title

    name = sheet_title(title, set())
    assert name == expected
    assert len(name) <= 31 and not set(name) & set("[]:*?/\\") and "_" not in name


def test_sheet_titles_stay_unique_within_the_limit():
    from commitments.reporting.exports import sheet_title

    used: set[str] = set()
    names = [sheet_title("Formazione di base per tutto il personale", used) for _ in range(3)]
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names)
    assert names[1].endswith(" (2)") and names[2].endswith(" (3)")
