"""Every role's home and main pages on a laptop (1366 x 768) and a phone (390 x 844).

The main pages are the ones the role's own navigation offers, read from the menu, so a
page added to a role's menu is checked without touching this file. On every page: no
sideways scroll (at 390 px and at 360 px, the narrowest phones still sold), axe-core 0
serious/critical (``go`` checks it), and on the phone the menu is collapsed behind its
button and opens with it. Each role's home is saved at both sizes in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import ARTIFACTS, follow, go, login

LAPTOP = (1366, 768)
PHONE = (390, 844)
NARROWEST = 360
ROLES = {
    "visitor": None,
    "operator": "agente@rete-milano.test",
    "health-operator": "infermiera@rete-milano.test",
    "referent": "referente.pl@rete-milano.test",
    "trainer": "formatrice@rete-milano.test",
    "coordinator": "coordinamento@rete-milano.test",
    "admin": "admin@rete-milano.test",
}
VISITOR_PAGES = ["/", "/account/login", "/privacy", "/certificates/verify"]


def _sideways_overflow(page: Page) -> int:
    """Pixels by which the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def _main_pages(page: Page) -> list[str]:
    links = page.locator("nav[aria-label='Navigazione principale'] a[href]")
    paths = [href for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")]
    return list(dict.fromkeys(paths))


def _check(page: Page, path: str, width: int) -> list[str]:
    go(page, path)
    problems = []
    if (over := _sideways_overflow(page)) > 0:
        problems.append(f"{path} scrolls sideways by {over} px at {width} px")
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_page_fits_laptop_and_phone(open_page: Callable[..., Page], role: str):
    email = ROLES[role]
    problems: list[str] = []
    for size in (LAPTOP, PHONE):
        page = open_page(size)
        if email:
            login(page, email)
        go(page, "/")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"home-{role}-{size[0]}x{size[1]}.png", full_page=True)
        paths = _main_pages(page) if email else VISITOR_PAGES
        assert not email or len(paths) >= 2, f"{role}: no navigation found"
        for path in paths:
            problems += _check(page, path, size[0])
        if size == PHONE:
            page.set_viewport_size({"width": NARROWEST, "height": size[1]})
            for path in paths:
                problems += _check(page, path, NARROWEST)
    assert not problems, "\n".join(problems)


def test_phone_menu_is_collapsed_and_opens(open_page: Callable[..., Page]):
    page = open_page(PHONE)
    login(page, ROLES["referent"])
    menu = page.get_by_role("navigation", name="Navigazione principale")
    first_link = menu.get_by_role("link").first
    toggle = page.get_by_role("button", name="Mostra o nascondi il menu")
    expect(first_link).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    header_height = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
    assert header_height <= 160, f"the header takes {header_height} px of an 844 px phone"

    toggle.click()
    expect(first_link).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    close = page.get_by_role("button", name="Chiudi il menu")
    expect(close).to_be_focused()  # the open menu traps the focus, starting on its close button
    close.click()
    expect(first_link).to_be_hidden()


@pytest.mark.parametrize("role", ["referent", "admin"])
def test_laptop_menu_is_one_row(open_page: Callable[..., Page], role: str):
    """The roles with most entries keep the menu on one row on a laptop: their work on
    others' training sits under "Gestione", which opens and leads to its pages."""
    page = open_page(LAPTOP)
    login(page, ROLES[role])
    menu = page.get_by_role("navigation", name="Navigazione principale")
    tops = menu.locator(".nav-link").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert tops and len(set(tops)) == 1, f"menu rows start at {sorted(set(tops))}"
    manage = menu.get_by_role("button", name="Gestione")
    entries = menu.locator(".dropdown-menu a")
    expect(entries.first).to_be_hidden()
    manage.click()
    expect(entries.first).to_be_visible()
    href = entries.last.get_attribute("href")
    assert follow(page, entries.last).status == 200
    assert page.url.endswith(href), (page.url, href)
    expect(menu.get_by_role("button", name="Gestione")).to_have_class(re.compile(r"\bactive\b"))
