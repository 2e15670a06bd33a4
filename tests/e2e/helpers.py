"""What every browser journey needs: log in, follow a link from an e-mail, check a page
with axe-core, move from page to page.

Journeys import these helpers; the fixtures (``live_server``, ``browser_page``,
``open_page``) live in ``conftest.py``. Every page a journey reaches must be checked
with :func:`axe_check` before the journey moves on: the page fixture fails the test
otherwise, naming the pages that were skipped. :func:`go`, :func:`follow` and
:func:`login` check each page they reach, so a journey written with them is covered.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response, Route, expect
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from lms.cli import DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
AXE_JS = REPO / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
# axe is served to the page from the app's own origin (intercepted by Playwright, never
# reaching the server), so the page's Content-Security-Policy (script-src 'self') stays on:
# an inline <script> from ``add_script_tag(path=...)`` would be refused by it.
AXE_URL_PATH = "/__test-tooling__/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
LOGOUT_BUTTON = "form[action$='/account/logout'] button"

__all__ = [
    "DEMO_PASSWORD",
    "axe_check",
    "choose",
    "follow",
    "menu_link",
    "go",
    "is_logged_in",
    "login",
    "logout",
    "read_mail_link",
]


# --- The server under test -------------------------------------------------------


@dataclass
class LiveServer:
    """The app served by gunicorn for the browser (see the ``live_server`` fixture)."""

    url: str
    database_url: str
    mail_dir: Path
    log_path: Path
    label: str  # "sqlite" or "postgresql": names the artefacts of each run
    _engine: Engine | None = field(default=None, repr=False)

    def scalar(self, sql: str, **params: Any) -> Any:
        """Read one value from the server's database (to find ids, never to change data)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url, poolclass=NullPool)
        with self._engine.connect() as connection:
            return connection.execute(text(sql), params).scalar_one()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no server log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


_SERVER: list[LiveServer] = []  # the running server, registered by the live_server fixture


def current_server() -> LiveServer:
    assert _SERVER, "no live server: use the live_server fixture (or browser_page/open_page)"
    return _SERVER[-1]


# --- E-mail ------------------------------------------------------------------------


def read_mail_link(prefix: str, *, to: str | None = None, timeout: float = 15.0) -> str:
    """The link starting with ``prefix`` in the newest message (to ``to``, if given):
    the job worker sends it within a second or two of the request.

    ``prefix`` is a path such as ``/account/invitation/``; the link must also start with
    the server's own address, which checks that ``LMS_BASE_URL`` reaches the e-mails.
    """
    server = current_server()
    wanted = server.url + prefix
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        seen = []
        files = sorted(server.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        for path in reversed(files):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            recipient = str(message["To"])
            seen.append(f"{recipient}: {message['Subject']}")
            if to is not None and recipient.lower() != to.lower():
                continue
            links = re.findall(re.escape(wanted) + r"\S+", message.get_content())
            if links:
                return links[-1]
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no e-mail{' to ' + to if to else ''} with a link starting {wanted!r}; "
                f"messages: {seen or 'none'}"
            )
        time.sleep(0.1)


# --- Accessibility -----------------------------------------------------------------


@dataclass
class AxeScan:
    url: str
    title: str
    violations: list[dict[str, Any]]
    server: str

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [v for v in self.violations if v.get("impact") in BLOCKING_IMPACTS]


SCANS: list[AxeScan] = []  # every scan of the session, for the summary and the report


@dataclass
class PageWatch:
    """What happened on one page: documents loaded, scanned, script errors."""

    page: Page
    loads: list[list[Any]] = field(default_factory=list)  # [url, scanned]
    errors: list[str] = field(default_factory=list)

    def unscanned(self) -> list[str]:
        return [url for url, scanned in self.loads if not scanned]


WATCHES: dict[int, PageWatch] = {}


def watch(page: Page) -> PageWatch:
    """Record every document load, CSP violation and script error of ``page``."""
    watched = PageWatch(page)
    WATCHES[id(page)] = watched
    page.on("load", lambda p: watched.loads.append([p.url, False]))
    page.on(
        "console",
        lambda message: (
            watched.errors.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: watched.errors.append(f"script error: {error}"))
    return watched


AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core: {len(violations)} violation(s) on {url}"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            summary = " ".join((node.get("summary") or "").split())
            lines.append(f"      at {node['target']}: {summary}")
    return "\n".join(lines)


def axe_check(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0 A/AA, 2.1 AA) on the current page.

    Fails on serious or critical violations, printing them; returns every violation
    (the minor and moderate ones go into the session's report).
    """
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL_PATH)
    violations = page.evaluate(AXE_RUN, AXE_TAGS)
    scan = AxeScan(page.url, page.title(), violations, current_server().label)
    SCANS.append(scan)
    watched = WATCHES.get(id(page))
    if watched and watched.loads:
        watched.loads[-1][1] = True
    if scan.blocking:
        report = format_violations(page.url, scan.blocking)
        print(report)
        raise AssertionError(report)
    return violations


def axe_summary() -> dict[str, Any]:
    distinct = {normalise_url(s.url) for s in SCANS}
    return {
        "axe_core": axe_version(),
        "tags": AXE_TAGS,
        "scans": len(SCANS),
        "distinct_pages": sorted(distinct),
        "serious_or_critical": sum(len(s.blocking) for s in SCANS),
        "minor_or_moderate": sorted(
            {
                f"{v['id']} ({v['impact']}) on {normalise_url(s.url)}"
                for s in SCANS
                for v in s.violations
                if v not in s.blocking
            }
        ),
    }


def axe_version() -> str:
    package = AXE_JS.parent / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else "?"


def normalise_url(url: str) -> str:
    """``/organisations/12/`` → ``/organisations/<n>/``; tokens → ``<token>``."""
    path = re.sub(r"^https?://[^/]+", "", url).split("#")[0]
    path = re.sub(r"/(reset|invitation)/[^/?]+", r"/\1/<token>", path)
    return re.sub(r"/\d+(?=/|$|\?)", "/<n>", path)


def _serve_axe(route: Route) -> None:
    route.fulfill(path=str(AXE_JS), content_type="text/javascript; charset=utf-8")


def new_context(
    browser: Browser, base_url: str, viewport: tuple[int, int] | None = None
) -> BrowserContext:
    """A browser context (one person) on the server, able to load axe-core; a
    ``viewport`` of (width, height) for a given screen (a phone: 390 x 844)."""
    size = {"width": viewport[0], "height": viewport[1]} if viewport else None
    context = browser.new_context(base_url=base_url, locale="it-IT", viewport=size)
    context.route(f"**{AXE_URL_PATH}", _serve_axe)
    return context


# --- Moving around -----------------------------------------------------------------


def go(page: Page, path: str) -> Response:
    """Open ``path`` (relative to the server) and check the page with axe."""
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    axe_check(page)
    return response


def follow(page: Page, target: Locator | Callable[[], Any]) -> Response:
    """Click ``target`` (or run it), wait for the next page and check it with axe."""
    with page.expect_navigation() as navigation:
        if isinstance(target, Locator):
            target.click()
        else:
            target()
    response = navigation.value
    axe_check(page)
    return response


def menu_link(page: Page, name: str) -> Locator:
    """An entry of the header's menu, opening "Gestione" first when the entry is there
    (work on others' training is grouped under it)."""
    menu = page.get_by_role("navigation", name="Navigazione principale")
    link = menu.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        menu.get_by_role("button", name="Gestione").click()
    expect(link).to_be_visible()
    return link


def choose(scope: Page | Locator, label: str, *, exact: bool = False) -> None:
    """Tick a radio button or check box as a person does, by clicking its label
    (Bootstrap Italia draws the box on the label, over the native input)."""
    box = scope.get_by_label(label, exact=exact)
    scope.locator(f"label[for='{box.get_attribute('id')}']").click()
    expect(box).to_be_checked()


def is_logged_in(page: Page) -> bool:
    return page.locator(LOGOUT_BUTTON).count() == 1


def login(page: Page, email: str, password: str = DEMO_PASSWORD) -> Response:
    """Log in through the login form (in whichever language the page is in)."""
    go(page, "/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    response = follow(page, page.locator("main form button[type=submit]"))
    assert is_logged_in(page), f"login of {email} failed: {page.url}\n{page.inner_text('main')}"
    return response


def logout(page: Page) -> Response:
    response = follow(page, page.locator(LOGOUT_BUTTON))
    assert not is_logged_in(page) and page.url.endswith("/account/login")
    return response
