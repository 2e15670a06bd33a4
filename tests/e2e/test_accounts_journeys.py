"""Journeys of accounts: invitation by a referent, password reset, keyboard-only login."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    DEMO_PASSWORD,
    LiveServer,
    follow,
    go,
    is_logged_in,
    login,
    logout,
    menu_link,
    read_mail_link,
)

REFERENT_PL = "referente.pl@rete-milano.test"
PL_NAME = "Nucleo Tutela Donna e Minori della Polizia Locale"


def test_referent_invites_an_officer_who_activates_the_account(
    open_page: Callable[[], Page], live_server: LiveServer
):
    referent = open_page()
    login(referent, REFERENT_PL)
    follow(referent, menu_link(referent, "Organizzazioni"))
    organisation = referent.get_by_role("link", name=PL_NAME, exact=False)
    expect(organisation).to_have_count(1)  # a referent sees only their own organisation
    follow(referent, organisation)
    staff = referent.get_by_role("table")
    expect(staff).to_contain_text("Agente Demo")

    invite = referent.get_by_role("region", name="Invita una persona")
    invite.get_by_label("Nome e cognome").fill("Giulia Verdi")
    invite.get_by_label("E-mail").fill("giulia.verdi@rete-milano.test")
    invite.get_by_label("Profilo professionale").select_option(label="Polizia Locale")
    follow(referent, invite.get_by_role("button", name="Invia l'invito"))
    expect(referent.get_by_role("status")).to_contain_text(
        "Invito inviato a giulia.verdi@rete-milano.test"
    )
    expect(staff.get_by_role("row", name="Giulia Verdi")).to_contain_text("Polizia Locale")

    officer = open_page()
    link = read_mail_link("/account/invitation/", to="giulia.verdi@rete-milano.test")
    go(officer, link)
    expect(officer.get_by_role("heading", level=1)).to_have_text("Attiva il tuo account")
    expect(officer.get_by_text("giulia.verdi@rete-milano.test")).to_be_visible()
    officer.get_by_label("Nuova password", exact=True).fill("Verdi-password-2026")
    officer.get_by_label("Ripeti la nuova password").fill("Verdi-password-2062")
    follow(officer, officer.get_by_role("button", name="Salva la password"))  # a typo
    confirm = officer.get_by_label("Ripeti la nuova password")
    expect(confirm).to_have_attribute("aria-invalid", "true")
    expect(confirm).to_have_accessible_description("Le password non coincidono.")
    officer.get_by_label("Nuova password", exact=True).fill("Verdi-password-2026")
    confirm.fill("Verdi-password-2026")
    follow(officer, officer.get_by_role("button", name="Salva la password"))
    assert officer.url == live_server.url + "/"  # lands on the home page, logged in
    expect(officer.get_by_role("heading", level=1)).to_have_text("Ciao, Giulia")
    expect(officer.get_by_role("status")).to_contain_text("Password impostata")
    logout(officer)
    expect(officer.get_by_role("status")).to_contain_text("Hai chiuso la sessione.")
    login(officer, "giulia.verdi@rete-milano.test", "Verdi-password-2026")
    expect(officer.get_by_role("heading", level=1)).to_have_text("Ciao, Giulia")
    expect(officer.get_by_role("main")).to_contain_text(PL_NAME)


def test_password_reset_by_email_link_and_old_password_stops_working(browser_page: Page):
    page, email, new_password = browser_page, "operatrice@rete-milano.test", "Nuova-password-2026"
    go(page, "/account/login")
    follow(page, page.get_by_role("link", name="Hai dimenticato la password?"))
    page.get_by_label("E-mail").fill(email)
    follow(page, page.get_by_role("button", name="Invia il link"))
    assert page.url.endswith("/account/login")
    expect(page.get_by_role("status")).to_contain_text("Se l'indirizzo è registrato")

    link = read_mail_link("/account/reset/", to=email)
    go(page, link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Reimposta la password")
    page.get_by_label("Nuova password", exact=True).fill(new_password)
    page.get_by_label("Ripeti la nuova password").fill(new_password)
    follow(page, page.get_by_role("button", name="Salva la password"))
    assert is_logged_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ciao, Operatrice")
    logout(page)

    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    refused = follow(page, page.locator("main form button[type=submit]"))
    assert refused.status == 401 and not is_logged_in(page)
    expect(page.get_by_role("status")).to_contain_text("E-mail o password non corretti.")

    used = go(page, link)  # the link works once
    assert used.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Link non valido")
    login(page, email, new_password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ciao, Operatrice")


def _focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        """() => {
          const el = document.activeElement, box = el.getBoundingClientRect();
          const style = getComputedStyle(el);
          return {id: el.id, tag: el.tagName.toLowerCase(), cls: el.className,
                  text: el.innerText || '', outline: style.outlineStyle,
                  visible: String(box.left >= 0 && box.top >= 0 && box.width > 0)};
        }"""
    )


def _tab_to(page: Page, element_id: str, limit: int = 20) -> int:
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _focused(page)["id"] == element_id:
            return presses
    raise AssertionError(f"#{element_id} not reached with {limit} presses of Tab")


def test_keyboard_only_login_and_skip_link(browser_page: Page):
    page = browser_page
    go(page, "/account/login")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert "skip-link" in first["cls"] and first["visible"] == "true", first
    assert first["text"] == "Vai al contenuto" and first["outline"] != "none", first

    _tab_to(page, "email")
    assert _focused(page)["outline"] != "none"  # focus is visible
    page.keyboard.type("agente@rete-milano.test")
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "password"
    page.keyboard.type(DEMO_PASSWORD)
    follow(page, lambda: page.keyboard.press("Enter"))
    assert is_logged_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ciao, Agente")

    page.keyboard.press("Tab")
    skip = _focused(page)
    assert "skip-link" in skip["cls"] and skip["visible"] == "true", skip
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    assert _focused(page)["id"] == "main"  # focus moved past the header
