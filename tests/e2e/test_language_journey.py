"""Italian ⇄ English with the selector in the header, before and after logging in."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import follow, go, login, logout

TRAINER = "formatrice@rete-milano.test"


def _switch(page: Page, locale: str) -> None:
    header = page.get_by_role("banner")
    header.locator("#locale-select").select_option(locale)
    follow(page, header.locator("form[action$='/language'] button"))
    expect(page.locator("html")).to_have_attribute("lang", locale)


def test_italian_to_english_and_back_before_and_after_login(browser_page: Page):
    page = browser_page
    go(page, "/account/login")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_label("Lingua")).to_have_value("it")

    _switch(page, "en")
    assert page.url.endswith("/account/login")  # back on the same page
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_role("link", name="Skip to content")).to_be_attached()
    expect(page.get_by_label("Language")).to_have_value("en")
    expect(page.get_by_role("button", name="Change language")).to_be_visible()

    _switch(page, "it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accedi")
    expect(page.get_by_role("button", name="Cambia lingua")).to_be_visible()

    login(page, TRAINER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ciao, Formatrice")
    _switch(page, "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Formatrice")
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
    follow(page, page.get_by_role("link", name="Password", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Change password")
    missing = go(page, "/pagina-che-non-esiste")
    assert missing.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    logout(page)

    page.context.clear_cookies()  # a new session: the choice is stored on the account
    login(page, TRAINER)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Formatrice")
    _switch(page, "it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ciao, Formatrice")
    expect(page.get_by_role("button", name="Esci")).to_be_visible()
