"""Browser journeys: the app served by gunicorn, driven by Debian's chromium.

One server per test session, on a database made for it: a SQLite file, or (when
``LMS_TEST_DATABASE_URL`` names PostgreSQL) a separate database on that server,
dropped at the end. The schema comes from ``lms init-db`` and the data from
``lms demo``, as on a real installation. The test tooling (chromium, axe-core) is
installed by ``tools/install-test-tools``, which ``make test`` runs.

To add a journey: a test taking ``browser_page`` (or ``open_page`` for a second
person), moving with ``go``/``follow``/``login`` from ``tests.e2e.helpers``, which
check every page with axe-core. The last page of each journey is saved as a
screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from tests.e2e import helpers
from tests.e2e.helpers import ARTIFACTS, AXE_JS, REPO, LiveServer

CHROMIUM = "/usr/bin/chromium"
# As in /work/shared/notes/browser-tests.md: without the background-networking flags
# chromium tries to reach the network at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0


def browser_environment() -> dict[str, str]:
    """The browser's environment: ours, without libfaketime. In the clock-ahead run
    (tools/run-tests-clock-ahead) the server and the tests live two years ahead, but
    chromium does not start under the library; it is the visitor's clock anyway."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "LD_PRELOAD" and not key.startswith("FAKETIME")
    }


@pytest.fixture(autouse=True)
def _transaction() -> Iterator[None]:
    """Journeys use the served app and its own database, not the in-process test one."""
    yield


# --- Database and server ----------------------------------------------------------


@contextmanager
def e2e_database(tmp_dir: Path) -> Iterator[tuple[str, str]]:
    """A fresh, empty database for the session: (URL, label)."""
    base = os.environ.get("LMS_TEST_DATABASE_URL") or ""
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_dir / 'e2e.sqlite3'}", "sqlite"
        return
    url = make_url(base)
    name = f"lms_e2e_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        try:
            yield url.set(database=name).render_as_string(hide_password=False), "postgresql"
        finally:
            with admin.connect() as connection:
                connection.execute(drop)
    finally:
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "lms"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"lms {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def _wait_until_healthy(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            error.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn not healthy after {START_TIMEOUT}s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the master by pid (it stops its workers), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_dir = tmp_path_factory.mktemp("e2e")
    with e2e_database(tmp_dir) as (database_url, label):
        port = _free_port()
        server = LiveServer(
            url=f"http://127.0.0.1:{port}",
            database_url=database_url,
            mail_dir=tmp_dir / "mail",
            log_path=tmp_dir / "gunicorn.log",
            label=label,
        )
        env = {
            **os.environ,
            "LMS_DATABASE_URL": database_url,
            "LMS_INSTANCE_PATH": str(tmp_dir / "instance"),
            "LMS_MAIL_BACKEND": "file",
            "LMS_MAIL_FILE_DIR": str(server.mail_dir),
            "LMS_SECRET_KEY": secrets.token_urlsafe(32),
            "LMS_BASE_URL": server.url,
        }
        _run_cli(env, "init-db")
        demo = _run_cli(env, "demo")
        assert "referente.pl@rete-milano.test" in demo, demo
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers=2",
                    f"--bind=127.0.0.1:{port}",
                    "--graceful-timeout=5",
                    "--no-control-socket",
                    "--access-logfile=-",
                    "wsgi:app",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            # The job worker beside it, as `make run` starts it (e-mail, imports, archives).
            worker = subprocess.Popen(
                [str(BIN / "lms"), "worker"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                _wait_until_healthy(server, process)
                helpers._SERVER.append(server)
                yield server
            finally:
                helpers._SERVER.clear()
                _stop(worker)
                _stop(process)
                server.close()


# --- Browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    missing = [str(p) for p in (Path(CHROMIUM), AXE_JS) if not p.exists()]
    assert not missing, f"test tooling missing: {missing}; run tools/install-test-tools"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=browser_environment()
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Open a page in a new browser context: one per person in the journey (optionally
    with a screen size, ``open_page((390, 844))``).

    At the end: the last page of each person is saved as a screenshot, and the test
    fails if a page was left without an axe check, or broke the Content-Security-Policy
    or raised a script error.
    """
    opened: list[helpers.PageWatch] = []
    contexts = []

    def open_new(viewport: tuple[int, int] | None = None) -> Page:
        context = helpers.new_context(browser, live_server.url, viewport)
        contexts.append(context)
        page = context.new_page()
        opened.append(helpers.watch(page))
        return page

    yield open_new

    problems = []
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, watched in enumerate(opened, start=1):
            suffix = "" if number == 1 else f"-{number}"
            name = f"e2e-{live_server.label}-{request.node.name}{suffix}.png"
            if watched.page.url.startswith("http"):
                watched.page.screenshot(path=ARTIFACTS / name, full_page=True)
            problems += [f"page not checked with axe_check: {u}" for u in watched.unscanned()]
            problems += watched.errors
    finally:
        for watched in opened:
            helpers.WATCHES.pop(id(watched.page), None)
        for context in contexts:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def browser_page(open_page: Callable[[], Page]) -> Page:
    return open_page()


# --- Report -----------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not helpers.SCANS:
        return
    summary = helpers.axe_summary()
    label = helpers.SCANS[-1].server
    ARTIFACTS.mkdir(exist_ok=True)
    report = ARTIFACTS / f"axe-{label}.json"
    report.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    terminalreporter.write_line(
        f"axe-core {summary['axe_core']} ({', '.join(summary['tags'])}): "
        f"{summary['scans']} scans of {len(summary['distinct_pages'])} distinct pages, "
        f"{summary['serious_or_critical']} serious/critical, "
        f"{len(summary['minor_or_moderate'])} minor/moderate; report: {report.relative_to(REPO)}"
    )
