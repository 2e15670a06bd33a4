"""Two hosts behind one database (issue 21, item 3): whichever host answers, it works.

Two gunicorn processes (the repository's ``gunicorn.conf.py``), each with an instance
folder of its own, serve ONE database: the suite's PostgreSQL when
``LMS_TEST_DATABASE_URL`` names it (``make test``'s second run), else a SQLite file
both open. A browser with one cookie jar alternates its requests between them: sign-in,
a throttled wrong password counted across both, the session, a CSRF token from one
accepted by the other, a quiz attempt started on one and submitted on the other, the
certificate this issues verified (PDF and code) through the other; one ``lms worker``
beside them runs a job asked for on one host, and the other host shows it done.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from certificates import codes
from lms import db
from lms.accounts.models import Role
from lms.accounts.services import create_user
from tests.certificates.test_verification import attachments
from tests.conftest import PASSWORD, make_test_app, own_database, separate_database
from tests.courses.helpers import course_files

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
SECRET = "two-hosts-shared-secret-not-for-production"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
COURSE = "corso-due-host"
EVIDENCE = "evidence:\n  base: awareness\n  min_time_share: 0\n"
LEARNER, TARGET = "discente@rete-milano.test", "bersaglio@rete-milano.test"
ADMIN = "admin-due-host@rete-milano.test"
WRONG = "wrong-password-xx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def host_env(url: str, instance: Path, shared: Path) -> dict[str, str]:
    """What every host gets: the same database, secret, job queue and shared storage
    (mail and job files); an instance folder of its own (docs/deployment.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        {
            "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": SECRET,
            "LMS_INSTANCE_PATH": str(instance),
            "LMS_BASE_URL": "http://lms.test",
            "LMS_MAIL_BACKEND": "file",
            "LMS_MAIL_FILE_DIR": str(shared / "mail"),
            "LMS_JOB_FILES_DIR": str(shared / "job-files"),
            "LMS_WORKERS": "1",  # two hosts on a 2-core machine: one worker each
        }
    )
    if url.startswith("sqlite"):  # unset, each host would queue in its instance folder
        env["LMS_JOBS_URL"] = f"sqlite:///{shared / 'jobs.sqlite3'}"
    return env  # on PostgreSQL, unset: the queue is in the database itself


@dataclass
class Host:
    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextmanager
def serving(name: str, env: dict[str, str], tmp: Path) -> Iterator[Host]:
    """One host: gunicorn with the repository's configuration, on a free loopback port."""
    port = free_port()
    host = Host(name, f"http://127.0.0.1:{port}", tmp / f"{name}.log")
    with host.log.open("wb") as log:
        host.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config=gunicorn.conf.py",
                f"--bind=127.0.0.1:{port}",
                "--graceful-timeout=5",
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=REPO,
            env={**env, "LMS_BASE_URL": host.url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield host
        finally:
            stop(host.process)


@contextmanager
def worker(env: dict[str, str], tmp: Path) -> Iterator[Host]:
    """One ``lms worker`` for both hosts (periodic work off: only the job we ask for)."""
    host = Host("worker", "", tmp / "worker.log")
    with host.log.open("wb") as log:
        host.process = subprocess.Popen(
            [str(BIN / "lms"), "worker", "--threads=1", "--no-periodic"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield host
        finally:
            stop(host.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the master by pid (it stops its workers), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def wait_healthy(host: Host) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    assert host.process is not None
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise AssertionError(f"{host.name} exited:\n{host.tail()}")
        try:
            with urllib.request.urlopen(host.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            error.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{host.name} not healthy after {START_TIMEOUT}s:\n{host.tail()}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def csrf(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, f"no CSRF token (status {self.status})"
        return match.group(1)


@dataclass
class Browser:
    """One person's browser: one cookie jar, whichever host it talks to."""

    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)
    log: list[str] = field(default_factory=list)

    def request(
        self, host: Host, path: str, form: object = None, files: dict[str, bytes] | None = None
    ) -> Reply:
        data = headers = None
        if files:
            data, content_type = multipart(form or {}, files)
            headers = {"Content-Type": content_type}
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        request = urllib.request.Request(host.url + path, data=data, headers=headers or {})
        try:
            with opener.open(request, timeout=30) as response:
                reply = Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, dict(error.headers), error.read())
            error.close()
        self.log.append(f"{host.name} {'POST' if data else 'GET'} {path} -> {reply.status}")
        return reply


def multipart(form: object, files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in dict(form).items():  # type: ignore[call-overload]
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, content in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def seed(tmp: Path, url: str) -> None:
    """``lms init-db`` (schema, the installation's signing key), two people, a course."""
    from courses import authoring

    app: Flask = make_test_app(tmp / "seed", url, LMS_SECRET_KEY=SECRET)
    try:
        result = app.test_cli_runner().invoke(args=["lms", "init-db"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            create_user(db.session, LEARNER, "Persona Discente", password=PASSWORD)
            create_user(db.session, TARGET, "Persona Bersaglio", password=PASSWORD)
            create_user(
                db.session, ADMIN, "Persona Amministratrice", password=PASSWORD, roles=(Role.ADMIN,)
            )
            files = course_files(COURSE, modules=("quiz",), quiz_modules=("quiz",), extra=EVIDENCE)
            authoring.import_files(db.session, files, user=None, publish=True)
            db.session.commit()
    finally:
        app.extensions["lms"].engine.dispose()


def sign_in(browser: Browser, host: Host, email: str, password: str) -> Reply:
    token = browser.request(host, "/account/login").csrf()
    return browser.request(
        host, "/account/login", {"csrf_token": token, "email": email, "password": password}
    )


@pytest.mark.slow  # two gunicorn hosts started, sign-in delays waited out: about 25 s
def test_two_hosts_serve_one_installation(tmp_path: Path) -> None:
    with separate_database(tmp_path) as url, own_database(), ExitStack() as stack:
        seed(tmp_path, url)
        shared = tmp_path / "shared"
        a = stack.enter_context(serving("A", host_env(url, tmp_path / "host-a", shared), tmp_path))
        b = stack.enter_context(serving("B", host_env(url, tmp_path / "host-b", shared), tmp_path))
        jobs = stack.enter_context(worker(host_env(url, tmp_path / "worker", shared), tmp_path))
        wait_healthy(a)
        wait_healthy(b)
        browser, admin = Browser(), Browser()
        try:
            check_journey(browser, a, b)
            check_job(admin, a, b, shared / "mail")
        except AssertionError as error:
            trail = "\n".join(browser.log[-15:] + admin.log[-15:])
            logs = "\n".join(f"--- {h.name}\n{h.tail()}" for h in (a, b, jobs))
            raise AssertionError(f"{error}\n{trail}\n{logs}") from None
        # Nothing per host: no secret or key files written into any instance folder.
        for folder in (tmp_path / "host-a", tmp_path / "host-b", tmp_path / "worker"):
            assert not (folder / "secret_key").exists()
            assert not (folder / "certificate-keys").exists()


def check_journey(browser: Browser, a: Host, b: Host) -> None:
    # Throttling lives in the database: wrong passwords on A and B count together.
    guesser = Browser()
    failures, hosts = 0, [a, b]
    while failures < 5:  # 3 free, then 1 s and 2 s delays: the next waits at least 4 s
        reply = sign_in(guesser, hosts[failures % 2], TARGET, WRONG)
        if reply.status == 429:
            time.sleep(float(reply.headers.get("Retry-After", "1")))
            continue
        assert reply.status == 401, reply.status
        failures += 1
    for host in (a, b):  # delayed on both hosts, whichever counted the last failure
        held = sign_in(guesser, host, TARGET, PASSWORD)
        assert held.status == 429 and int(held.headers["Retry-After"]) >= 1, held.status

    # Sign in on A; the session is good on B.
    assert sign_in(browser, a, LEARNER, PASSWORD).status == 302
    assert browser.request(b, "/account/data").status == 200
    # A CSRF token of a page served by B is accepted by A (enrolment).
    token = browser.request(b, f"/courses/{COURSE}/").csrf()
    enrolled = browser.request(a, f"/courses/{COURSE}/enrol", {"csrf_token": token})
    assert enrolled.status == 302, enrolled.status

    # A quiz attempt started on A, shown and submitted on B.
    token = browser.request(a, f"/courses/{COURSE}/").csrf()
    started = browser.request(b, f"/quizzes/{COURSE}/quiz/start", {"csrf_token": token})
    assert started.status == 302, started.status
    attempt_path = urllib.parse.urlsplit(started.headers["Location"]).path
    assert re.fullmatch(r"/quizzes/attempts/\d+", attempt_path), attempt_path
    page = browser.request(a, attempt_path)
    assert page.status == 200 and "q::q-quiz" in page.text
    submitted = browser.request(b, attempt_path, {"csrf_token": page.csrf(), "q::q-quiz": "true"})
    assert submitted.status == 302 and "/result" in submitted.headers["Location"]

    # The certificate the pass issued: listed on A, downloaded from B, verified by A.
    mine = browser.request(a, "/certificates/")
    download = re.search(r'href="(/certificates/\d+/download)"', mine.text)
    assert mine.status == 200 and download, mine.status
    pdf = browser.request(b, download.group(1))
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF"), pdf.status
    verify_page = browser.request(a, "/certificates/verify")
    checked = browser.request(
        a, "/certificates/verify/upload", {"csrf_token": verify_page.csrf()}, {"document": pdf.body}
    )
    assert checked.status == 200 and 'data-outcome="valid"' in checked.text, checked.status
    payload, _signature = attachments(pdf.body)
    code = codes.grouped(json.loads(payload)["code"])
    by_code = browser.request(b, f"/certificates/verify/{code}")
    assert by_code.status == 200 and "Persona Discente" in by_code.text, by_code.status
    keys_a = browser.request(a, "/certificates/keys.json").text
    assert keys_a == browser.request(b, "/certificates/keys.json").text  # one key set


def check_job(admin: Browser, a: Host, b: Host, mail_dir: Path) -> None:
    """A reset e-mail asked for on A is a job; the worker sends it; B shows it done, and
    the link the worker signed opens on B (the same secret everywhere)."""
    # Signed in first: on SQLite a sign-in while the worker writes can meet "database is
    # locked" (its throttle writes are not retried; reported, not this test's subject).
    assert sign_in(admin, b, ADMIN, PASSWORD).status == 302
    visitor = Browser()
    form = visitor.request(a, "/account/reset")
    asked = visitor.request(a, "/account/reset", {"csrf_token": form.csrf(), "email": LEARNER})
    assert asked.status == 302, asked.status
    deadline = time.monotonic() + 60
    found = None
    while found is None and time.monotonic() < deadline:  # enqueued after A's response
        listed = admin.request(b, "/jobs/")
        assert listed.status == 200, listed.status
        found = re.search(r'href="/jobs/(\d+)"', listed.text)
        time.sleep(0.2)
    assert found, "no job listed on B"
    status: dict[str, object] = {}
    while time.monotonic() < deadline:
        status = json.loads(admin.request(b, f"/jobs/{found.group(1)}/status.json").text)
        if status["finished"]:
            break
        time.sleep(0.2)
    assert status.get("status") == "done", status
    (message,) = mail_dir.glob("*.eml")
    parsed = email.message_from_bytes(message.read_bytes(), policy=email.policy.default)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"/account/reset/[A-Za-z0-9_.\-]+", text)
    assert link, text
    opened = Browser().request(b, link.group(0))
    assert opened.status == 200 and 'type="password"' in opened.text, opened.status
