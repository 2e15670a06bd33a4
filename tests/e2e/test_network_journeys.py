"""Journeys of the network coordinator: aggregate numbers, never named staff."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from lms.cli import DEMO_ACCOUNTS
from tests.e2e.helpers import LiveServer, follow, go, login, menu_link

COORDINATOR = "coordinamento@rete-milano.test"
# Staff the demo puts into organisations (the coordinator's own name is in the header).
STAFF = [(email, name, org) for email, name, _r, org, _a, _ref in DEMO_ACCOUNTS if org]
OWN_NAME = next(name for email, name, *_ in DEMO_ACCOUNTS if email == COORDINATOR)


def _org(live_server: LiveServer, code: str) -> tuple[int, str]:
    org_id = live_server.scalar("SELECT id FROM lms_organisation WHERE code = :c", c=code)
    name = live_server.scalar("SELECT name FROM lms_organisation WHERE code = :c", c=code)
    return org_id, name


def test_coordinator_sees_counts_but_no_names_and_no_staff_pages(
    browser_page: Page, live_server: LiveServer
):
    page = browser_page
    login(page, COORDINATOR)
    follow(page, menu_link(page, "Organizzazioni"))

    table = page.get_by_role("table", name="Organizzazioni della rete e personale registrato")
    rows = table.locator("tbody tr")
    total = live_server.scalar("SELECT count(*) FROM lms_organisation")
    expect(rows).to_have_count(total)
    counts = {
        row.locator("td").nth(0).inner_text(): row.locator("td").nth(2).inner_text()
        for row in rows.all()
    }
    assert all(re.fullmatch(r"\d+", c) for c in counts.values()), counts
    for code in {org for _e, _n, org in STAFF}:
        org_id, name = _org(live_server, code)
        staff = sum(1 for _e, _n, org in STAFF if org == code)
        assert int(counts[name]) >= staff, (name, counts[name])  # journeys may add people
    assert counts["Questura di Milano"] == "0"

    html = page.content()
    for email, name, _org_code in STAFF:
        if name != OWN_NAME:
            assert name not in html, f"staff name {name!r} visible to the coordinator"
            assert email not in html, f"staff e-mail {email!r} visible to the coordinator"
    assert not re.search(r'href="[^"]*/organisations/\d+/', html)  # no way into staff pages

    for code in ("CDM-PL-NTDM", "ASST-NIGUARDA", "CAV-CADMI"):
        org_id, _name = _org(live_server, code)
        response = go(page, f"/organisations/{org_id}/")
        assert response.status == 403, (code, response.status)
        expect(page.get_by_role("heading", level=1)).to_have_text("Accesso non consentito")
        html = page.content()
        assert not [name for _e, name, org in STAFF if org == code and name in html]
