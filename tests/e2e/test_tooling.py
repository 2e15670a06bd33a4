"""The checks the journeys rely on do catch what they are meant to catch."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e import helpers
from tests.e2e.helpers import LiveServer, axe_check


def test_axe_check_fails_on_serious_violations_under_the_real_csp(
    browser: Browser, live_server: LiveServer
):
    context = helpers.new_context(browser, live_server.url)
    page = context.new_page()
    watched = helpers.watch(page)
    try:
        response = page.goto("/account/login")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert watched.unscanned() == [live_server.url + "/account/login"]
        page.evaluate(
            """() => {
              document.documentElement.removeAttribute('lang');
              document.querySelector('label[for=email]').remove();
            }"""
        )
        scans = len(helpers.SCANS)
        with pytest.raises(AssertionError) as failure:
            axe_check(page)
        del helpers.SCANS[scans:]  # a deliberate violation, not one of the app's
        assert "html-has-lang" in str(failure.value) and "label" in str(failure.value)
        assert watched.unscanned() == [] and watched.errors == []
    finally:
        helpers.WATCHES.pop(id(page), None)
        context.close()
