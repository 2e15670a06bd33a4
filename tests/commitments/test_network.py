"""The coordinator's network view: aggregated, no names, no count below 5, anywhere."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from lms import db
from lms.accounts.models import Role, User
from tests.commitments.helpers import (
    ASST,
    PL,
    bulk_completions,
    bulk_staff,
    make_commitment,
    org_id,
)
from tests.conftest import login

NOW = dt.datetime.now(dt.UTC)
CAV = "CAV-CADMI"
MUNICIPIO = "MUNICIPIO-1"


def network_of_various_sizes(app, make_user, two_courses):
    """PL: 12 staff, 7 covered; ASST: 3 staff, 2 covered; CAV: 6 staff, 1 covered;
    Municipio 1: 13 staff, none covered."""
    network, _specific = two_courses
    with app.app_context():
        make_commitment(
            [network],
            code="rete",
            title="Formazione di Rete",
            audiences=("polizia_locale", "triage_asst", "operatrici_cav"),
        )
        pl = bulk_staff(PL, 12, prefix="agente")
        asst = bulk_staff(ASST, 3, audience="triage_asst", prefix="infermiera")
        cav = bulk_staff(CAV, 6, audience="operatrici_cav", prefix="operatrice")
        municipio = bulk_staff(MUNICIPIO, 13, prefix="sportello")
        bulk_completions(pl[:7] + asst[:2] + cav[:1], network, NOW - dt.timedelta(days=60))
        coordinator = make_user(roles=(Role.COORDINATOR,), name="Coordinatrice")
        everyone = pl + asst + cav + municipio
        names = list(db.session.scalars(select(User.full_name).where(User.id.in_(everyone))))
        emails = list(db.session.scalars(select(User.email).where(User.id.in_(everyone))))
    return coordinator, names + emails


def assert_no_small_counts(cells: list[str]) -> None:
    for cell in cells:
        value = cell.strip()
        if re.fullmatch(r"\d+", value):
            assert int(value) == 0 or int(value) >= 5, f"count of 1 to 4 shown: {value}"
        else:
            assert re.fullmatch(r"<5|n\.d\.|—|[\d.,]+ %|sì|no|raggiunto|non raggiunto", value) or (
                not any(ch.isdigit() for ch in value)
            ), value


def test_network_view_is_anonymous_and_masks_small_counts(app, make_user, two_courses):
    coordinator, personal = network_of_various_sizes(app, make_user, two_courses)
    client = app.test_client()
    login(client, coordinator.email)
    page = client.get("/commitments/network/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for value in personal:
        assert value not in html
    rows = re.findall(
        r'<tr>\s*<th scope="row">([^<]*)</th>\s*<td data-label="[^"]*">(.*?)</td>(.*?)</tr>',
        html,
        re.S,
    )
    by_org = {
        name: re.findall(r'<td class="num"[^>]*>(.*?)</td>', rest, re.S) for name, _c, rest in rows
    }
    pl = next(v for k, v in by_org.items() if "Polizia Locale" in k)
    asst = next(v for k, v in by_org.items() if "Niguarda" in k)
    cav = next(v for k, v in by_org.items() if "Casa delle Donne" in k)
    assert pl[:4] == ["12", "7", "0", "58,3 %"]  # none expiring: 0 singles nobody out
    assert asst[:4] == ["&lt;5", "&lt;5", "0", "n.d."]  # 3 in scope, 2 covered
    assert cav[:4] == ["6", "&lt;5", "0", "n.d."]  # 1 covered would give away the count
    municipio = next(v for k, v in by_org.items() if "Municipio 1" in k)
    assert municipio[:4] == ["13", "0", "0", "0 %"]  # none trained is said, not "n.d."
    for cells in by_org.values():
        assert_no_small_counts([c.replace("&lt;", "<") for c in cells])
    assert "n.d." in asst[-1] or "n.d." in html


def test_network_sorting_does_not_reveal_masked_values(app, make_user, two_courses):
    coordinator, _personal = network_of_various_sizes(app, make_user, two_courses)
    client = app.test_client()
    login(client, coordinator.email)
    html = client.get("/commitments/network/?sort=coverage&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in html
    sociosanitario = html[html.index("Sistema socio-sanitario") :]
    assert "Niguarda" in sociosanitario


def test_network_csv_and_pdf_are_masked_and_anonymous(app, make_user, two_courses):
    coordinator, personal = network_of_various_sizes(app, make_user, two_courses)
    client = app.test_client()
    login(client, coordinator.email)
    response = client.get("/commitments/network/export.csv")
    assert response.status_code == 200 and response.data.startswith(codecs.BOM_UTF8)
    text = response.data.decode("utf-8-sig")
    for value in personal:
        assert value not in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][3:7] == [  # the header first
        "Persone nel perimetro",
        "Con formazione valida",
        "In scadenza",
        "Copertura",
    ]
    body = rows[1:]
    assert {r[1] for r in body} >= {"Tribunale Ordinario di Milano"} or len(body) == 4
    for row in body:
        assert_no_small_counts(row[3:6])
    pdf = client.get("/commitments/network/summary.pdf")
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.data))
    pdf_text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for value in personal:
        assert value not in pdf_text
    assert "Polizia Locale" in pdf_text and "<5" in pdf_text and "58,3 %" in pdf_text


def test_network_view_is_for_the_coordinator_and_admins_only(app, make_user, two_courses):
    coordinator, _personal = network_of_various_sizes(app, make_user, two_courses)
    with app.app_context():
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, referent.email)
    for path in (
        "/commitments/network/",
        "/commitments/network/export.csv",
        "/commitments/network/summary.pdf",
    ):
        assert client.get(path).status_code == 403
    admin_client = app.test_client()
    login(admin_client, admin.email)
    assert admin_client.get("/commitments/network/").status_code == 200
    # The coordinator sees the network in aggregate, never an organisation's named staff.
    coordinator_client = app.test_client()
    login(coordinator_client, coordinator.email)
    with app.app_context():
        pl = org_id(PL)
    for path in ("", "export.csv", "export.xlsx", "summary.pdf", "import", "enrol"):
        assert coordinator_client.get(f"/commitments/organisations/{pl}/{path}").status_code == 403
    home = coordinator_client.get("/").get_data(as_text=True)
    assert "Impegni formativi della Rete" in home
