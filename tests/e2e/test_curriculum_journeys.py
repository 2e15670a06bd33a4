"""Journeys of issue 15: a visitor reads the public path; a triage nurse, a court clerk and
a municipal help-desk worker each find their own course, which ends with what to do."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import follow, go, login


def test_visitor_reads_the_public_path_without_an_account(browser_page: Page):
    page = browser_page
    go(page, "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "La formazione della Rete antiviolenza di Milano"
    )
    expect(page.get_by_role("link", name="Accedi", exact=True)).to_be_visible()
    follow(page, page.locator("a[href$='/courses/public/conoscere-la-violenza/']"))
    expect(page.get_by_role("note")).to_contain_text("Non rilascia attestati")
    modules = page.locator("ol.modules a")
    expect(modules).to_have_count(3)
    follow(page, modules.nth(1))  # where to turn
    lesson = page.locator("article.lesson")
    expect(lesson).to_contain_text("1522")
    expect(lesson).to_contain_text("www.reteantiviolenzamilano.it")
    expect(page.locator("#study-status")).to_have_count(0)  # nothing is tracked
    go(page, "/")
    follow(page, page.get_by_role("link", name="Verifica un attestato"))
    expect(page).to_have_url(re.compile(r".*/certificates/verify/?$"))


@pytest.mark.parametrize(
    ("email", "slug"),
    [
        ("infermiera@rete-milano.test", "pronto-soccorso-triage"),
        ("cancelleria@rete-milano.test", "magistratura-procura"),
        ("sportello@rete-milano.test", "municipi-sportelli"),
    ],
)
def test_each_professional_finds_a_course_that_ends_with_what_to_do(
    open_page: Callable[[], Page], email: str, slug: str
):
    page = open_page()
    login(page, email)
    follow(
        page,
        page.get_by_role("navigation", name="Navigazione principale").get_by_role(
            "link", name="Catalogo"
        ),
    )
    follow(page, page.locator(f"main a[href$='/courses/{slug}/']").first)
    modules = page.locator("ol.modules li")
    expect(modules.last).to_contain_text("Cosa fare e chi chiamare")
    # The common base course comes first, and the page says so.
    expect(page.get_by_role("note")).to_contain_text("Rete antiviolenza")
