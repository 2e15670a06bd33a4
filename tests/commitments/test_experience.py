"""Issue 17 on the referent's and coordinator's pages: charts, tables that fit a phone,
wording without slashes, plural forms, and the small-cell rule at its boundary."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

from commitments.jobs import import_summary
from commitments.reporting.network import masked, network_overview, withheld
from commitments.rules.status import Moment
from commitments.staff.importing import Action
from lms import db
from lms.accounts.models import Role
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
PACKAGE = Path(__file__).resolve().parents[2] / "commitments"


class _TableWatch(HTMLParser):
    """Collects every <table> that is not inside a ``table-responsive`` box."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # one per open <div>: is it a table-responsive box?
        self.loose: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            self.stack.append("table-responsive" in classes)
        elif tag == "table" and not any(self.stack):
            self.loose.append(self.getpos()[0])

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.stack:
            self.stack.pop()


def assert_fits_a_phone(html: str) -> None:
    """Wide tables scroll in their own box (or stack as cards), never the page; no inline
    style attribute (the CSP forbids it)."""
    watch = _TableWatch()
    watch.feed(html)
    assert watch.loose == [], f"tables outside .table-responsive at lines {watch.loose}"
    assert not re.search(r"\sstyle=", html)


def referent_page(app, make_user, two_courses):  # noqa: ANN001, ANN201
    network, specific = two_courses
    with app.app_context():
        make_commitment([network, specific], target=50)
        referent = make_user(org=PL, referent=True, audience="amministrazione")
        staff = bulk_staff(PL, 6)
        bulk_completions(staff[:2], network, NOW - dt.timedelta(days=10))
        bulk_completions(staff[:1], specific, NOW - dt.timedelta(days=10))
        db.session.commit()
        pl = org_id(PL)
    client = app.test_client()
    login(client, referent.email)
    return client, pl


def test_the_dashboard_draws_its_state_and_trend_and_fits_a_phone(app, make_user, two_courses):
    client, pl = referent_page(app, make_user, two_courses)
    html = client.get(f"/commitments/organisations/{pl}/").get_data(as_text=True)
    # The state by status (lms.charts.stacked_bar) and the trend (line_chart), each with
    # its data table.
    assert html.count('<figure class="lms-chart">') == 2
    assert "Persone per stato: Impegno di prova" in html
    assert re.search(r'<th scope="row">Completato</th><td class="num">1</td>', html)
    assert "Andamento della copertura" in html and '<path d="M' in html
    # The progress bar of Bootstrap Italia with its values for assistive technology.
    assert 'role="progressbar"' in html and 'aria-valuenow="17"' in html  # 1 of 6
    assert "cm-w-15" in html  # its width as a class, not a style attribute
    assert "Persone non iscritte a nessun corso" in html
    assert_fits_a_phone(html)


def test_the_other_referent_pages_fit_a_phone(app, make_user, two_courses):
    client, pl = referent_page(app, make_user, two_courses)
    dashboard = client.get(f"/commitments/organisations/{pl}/").get_data(as_text=True)
    person = re.search(r'href="(/commitments/organisations/\d+/people/\d+)"', dashboard).group(1)
    for url in (
        person,
        f"/commitments/organisations/{pl}/enrol",
        f"/commitments/organisations/{pl}/import",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert_fits_a_phone(page.get_data(as_text=True))


def network_of_four_and_five(app, make_user, two_courses):  # noqa: ANN001, ANN201
    """Five people at PL, four at the ASST, nobody trained."""
    network, _specific = two_courses
    with app.app_context():
        make_commitment([network], audiences=("polizia_locale", "triage_asst"))
        bulk_staff(PL, 5)
        bulk_staff(ASST, 4, audience="triage_asst", prefix="infermiera")
        coordinator = make_user(roles=(Role.COORDINATOR,), name="Coordinatrice")
        db.session.commit()
    return coordinator


def test_the_small_cell_rule_at_its_boundary(app, make_user, two_courses):
    """1 to 4 people are withheld, 0 and 5 are said: 5 people with none trained read
    "0 %", 4 people read "<5" and no coverage (it would be about 4 people)."""
    assert [withheld(n) for n in (0, 1, 4, 5)] == [False, True, True, False]
    assert [masked(n) for n in (0, 4, 5)] == ["0", "<5", "5"]
    network_of_four_and_five(app, make_user, two_courses)
    with app.app_context():
        rows = {
            r.organisation_id: r for g in network_overview(db.session, Moment.now()) for r in g.rows
        }
        pl, asst = rows[org_id(PL)], rows[org_id(ASST)]
    assert (pl.in_scope, pl.valid, pl.coverage, pl.target_met) == ("5", "0", "0 %", False)
    assert (asst.in_scope, asst.valid, asst.coverage, asst.target_met) == ("<5", "0", "n.d.", None)


def test_the_network_page_draws_coverage_and_fits_a_phone(app, make_user, two_courses):
    coordinator = network_of_four_and_five(app, make_user, two_courses)
    client = app.test_client()
    login(client, coordinator.email)
    html = client.get("/commitments/network/").get_data(as_text=True)
    assert "Copertura per organizzazione" in html
    # The chart says what the table says: 0 % for five untrained people, n.d. for four.
    assert re.search(r'<th scope="row">[^<]*Polizia Locale[^<]*</th><td class="num">0 %</td>', html)
    assert re.search(r'<th scope="row">[^<]*Niguarda[^<]*</th><td class="num">n\.d\.</td>', html)
    assert "table-stack" in html  # rows become cards on a phone
    assert_fits_a_phone(html)
    manage = client.get("/commitments/manage/").get_data(as_text=True)
    assert_fits_a_phone(manage)


SLASHED = re.compile(r"\b[a-zàèéìòù]+[aeio]/[aeio]\b")


def test_no_word_is_written_with_a_slash_for_gender():
    """ "iscritta/o", "aggiunte/i": rephrased ("persone iscritte", "chi partecipa")."""
    found = []
    for path in [*PACKAGE.rglob("*.html"), *PACKAGE.rglob("*.txt"), *PACKAGE.rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SLASHED.search(line) and "http" not in line:
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_the_import_summary_gives_each_count_its_plural(app):
    with app.test_request_context():
        text = import_summary(
            {
                Action.NEW: 1,
                Action.ADD: 2,
                Action.REACTIVATE: 1,
                Action.AUDIENCE: 1,
                Action.UNCHANGED: 0,
            }
        )
    assert text == (
        "Importazione completata: 1 nuovo account invitato, 2 persone aggiunte, "
        "1 persona di nuovo attiva, 1 profilo aggiornato, 0 persone senza modifiche."
    )
