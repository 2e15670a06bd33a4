"""HTTP throughput and latency with gunicorn and a load generator on loopback.

Both the ceiling (``bench.hello``, a bare Flask hello-world) and the platform run
with the repository's ``gunicorn.conf.py`` (2 gthread workers; 1 request thread each
on SQLite, 4 on PostgreSQL; as ``make run``; production settings: no debug, JSON
logs, no access log) on 127.0.0.1.
The load comes from wrk (Debian's package, installed with apt-get when missing and
possible) through ``bench/requests.lua``, which replays
prepared requests with their session cookies; without wrk, from a Python
multi-process client (``python_load``). Same concurrency for every endpoint.

Quiz start and submit need a fresh target per request: learners enrolled in every
course, logged in beforehand, start each (learner, quiz) once; the attempts those
starts opened are then submitted once each, with the right answers (the heavier,
passing path: module completion, sometimes course completion and a certificate).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from bench.common import ROOT, SECRET_KEY, log

LUA = Path(__file__).with_name("requests.lua")
USER_AGENT = "lms-bench"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STUDY_TOKEN_RE = re.compile(r'data-study-token="([^"]+)"')


@dataclass
class Settings:
    duration: float = 10.0  # seconds per measured GET run
    warmup: float = 2.0
    connections: int = 4
    threads: int = 1
    once_items: int = 300  # starts (and then submits) measured
    once_warmup: int = 50
    once_cap: float = 30.0  # seconds, whatever the number of items left


# --- Servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn with ``gunicorn.conf.py`` on loopback, started and stopped by us."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.module = module
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--error-logfile",
            str(self.log_path),
            "--timeout",
            "120",
            self.module,
        ]
        with open(self.log_path, "ab") as output:  # the app's own (JSON) log lines
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            with contextlib.suppress(OSError):
                status, _h, _b = Browser(self.port).request("GET", "/healthz")
                if status in (200, 404):
                    # Both workers import the app lazily: touch it a few times.
                    for _ in range(6):
                        Browser(self.port).request("GET", "/healthz")
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer; see {self.log_path}")

    def worker_cpu_seconds(self) -> float:
        """User + system CPU of the master's children (the workers), from /proc."""
        if self.process is None:
            return 0.0
        total = 0
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            for pid in children.read_text().split():
                with contextlib.suppress(OSError):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def idle(self, seconds: float = 1.0, timeout: float = 120.0) -> None:
        """Wait until the workers have drained what a load generator left queued."""
        deadline = time.monotonic() + timeout
        last = self.worker_cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(seconds)
            now = self.worker_cpu_seconds()
            if now - last < 0.05 * seconds:
                return
            last = now

    def __exit__(self, *_exc: object) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def platform_env(database_url: str, instance: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        {
            "LMS_DATABASE_URL": database_url,
            "LMS_INSTANCE_PATH": instance,
            "LMS_SECRET_KEY": SECRET_KEY,
            "LMS_LOG_JSON": "true",
            "LMS_MAIL_BACKEND": "file",
            "LMS_BASE_URL": "http://127.0.0.1",
        }
    )
    return env


# --- A minimal browser -----------------------------------------------------------------------


class Browser:
    """http.client with a cookie jar of one site; sends the bench's User-Agent, as wrk does
    (Flask-Login's strong session protection binds the session to address and agent)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self, method: str, path: str, form: list[tuple[str, str]] | dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers.items()), data
        finally:
            connection.close()

    def csrf(self, path: str) -> str:
        status, _headers, body = self.request("GET", path)
        match = CSRF_RE.search(body)
        if not match:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return match.group(1)

    def login(self, email: str, password: str) -> str:
        status = 0
        for attempt in range(5):
            token = self.csrf("/account/login")
            status, _headers, _body = self.request(
                "POST",
                "/account/login",
                {"csrf_token": token, "email": email, "password": password},
            )
            if status == 302:
                return token
            if status != 500:  # a 500 here is SQLite's lost write race (see the report)
                break
            time.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"login of {email} failed: {status}")


# --- Load generators -------------------------------------------------------------------------


@dataclass
class Load:
    """Prepared requests: (method, path, cookie, url-encoded body)."""

    name: str
    lines: list[tuple[str, str, str, str]]
    expected: int = 200
    once: bool = False
    notes: str = ""


@dataclass
class Measure:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    unexpected: int
    errors: int
    tool: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ensure_wrk() -> str | None:
    """wrk, installed from Debian's packages when missing (root only); None without it."""
    found = shutil.which("wrk")
    if found or os.environ.get("BENCH_NO_WRK"):
        return None if os.environ.get("BENCH_NO_WRK") else found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found: installing Debian's package (apt-get install wrk)")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet).returncode:
            subprocess.run(["apt-get", "update"], env=env, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet)
    return shutil.which("wrk")


def _write_lines(lines: list[tuple[str, str, str, str]]) -> Path:
    fd, name = tempfile.mkstemp(prefix="lms-bench-requests-", suffix=".tsv")
    with os.fdopen(fd, "w") as handle:
        for line in lines:
            handle.write("\t".join(line) + "\n")
    return Path(name)


def run_wrk(wrk: str, port: int, load: Load, duration: float, settings: Settings) -> Measure:
    path = _write_lines(load.lines)
    try:
        command = [
            wrk,
            f"-t{settings.threads}",
            f"-c{settings.connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "60s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
            "--",
            str(path),
            "once" if load.once else "cycle",
            str(load.expected),
            str(settings.threads),
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        path.unlink(missing_ok=True)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    data = json.loads(line[len("RESULT ") :])
    seconds = data["duration_us"] / 1e6
    requests = data["requests"]
    if load.once:  # from the first request to the last counted answer (see requests.lua)
        seconds, requests = data["answers_us"] / 1e6, data["answers"]
    errors = sum(data[k] for k in data if k.startswith("errors_"))
    return Measure(
        name=load.name,
        requests=requests,
        seconds=round(seconds, 2),
        rps=round(requests / seconds, 1) if seconds else 0.0,
        p50_ms=round(data["p50_us"] / 1000, 2),
        p95_ms=round(data["p95_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
        unexpected=data["unexpected_status"],
        errors=errors,
        tool="wrk",
        extra={"first_unexpected": data["first_unexpected"], "repeats": data["extra"]},
    )


def _python_worker(args: tuple[int, list[tuple[str, str, str, str]], bool, int, float]) -> Any:
    port, lines, once, expected, duration = args
    latencies: list[float] = []
    unexpected = errors = 0
    deadline = time.perf_counter() + duration
    index = 0
    while time.perf_counter() < deadline and lines:
        if index >= len(lines):
            if once:
                break
            index = 0
        method, path, cookie, body = lines[index]
        index += 1
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != expected:
                unexpected += 1
        except OSError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - started)
    return latencies, unexpected, errors


def python_load(port: int, load: Load, duration: float, settings: Settings) -> Measure:
    """The fallback load generator: one process per connection, blocking http.client."""
    import multiprocessing

    n = settings.connections
    shares = [load.lines[i::n] if load.once else load.lines for i in range(n)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(n) as pool:
        parts = pool.map(
            _python_worker, [(port, s, load.once, load.expected, duration) for s in shares]
        )
    seconds = time.perf_counter() - started
    latencies = sorted(x for part in parts for x in part[0])

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return Measure(
        name=load.name,
        requests=len(latencies),
        seconds=round(seconds, 2),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=pct(0.50) if latencies else 0.0,
        p95_ms=pct(0.95) if latencies else 0.0,
        p99_ms=pct(0.99) if latencies else 0.0,
        unexpected=sum(p[1] for p in parts),
        errors=sum(p[2] for p in parts),
        tool="python",
    )


class Loader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.wrk = ensure_wrk()
        self.tool = "wrk" if self.wrk else "python multi-process client"

    def run(self, port: int, load: Load, duration: float) -> Measure:
        if self.wrk:
            return run_wrk(self.wrk, port, load, duration, self.settings)
        return python_load(port, load, duration, self.settings)

    def measure(self, server: Server, load: Load) -> Measure:
        """Warm up, then measure (``once`` loads: the first items warm up, the rest count).

        Also records the workers' CPU time per request (from /proc): what a request
        costs the server, whatever else the machine is doing.
        """
        s, port = self.settings, server.port
        if load.once:
            warm = Load(load.name, load.lines[: s.once_warmup], load.expected, once=True)
            rest = Load(load.name, load.lines[s.once_warmup :], load.expected, once=True)
            self.run(port, warm, s.once_cap)
            server.idle()
            cpu = server.worker_cpu_seconds()
            result = self.run(port, rest, s.once_cap)
        else:
            self.run(port, load, s.warmup)
            server.idle()
            cpu = server.worker_cpu_seconds()
            result = self.run(port, load, s.duration)
        server.idle()
        used = server.worker_cpu_seconds() - cpu
        result.extra["worker_cpu_ms"] = round(1000 * used / max(result.requests, 1), 2)
        result.extra["load_average"] = round(os.getloadavg()[0], 2)
        flag = ""
        if result.unexpected or result.errors:
            flag = f"  (!! {result.unexpected} unexpected statuses, {result.errors} errors)"
        log(
            f"{load.name:<28} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
            f"p95 {result.p95_ms:7.1f} ms  {result.extra['worker_cpu_ms']:6.1f} ms CPU  "
            f"({result.requests} requests){flag}"
        )
        return result


# --- The platform's pages --------------------------------------------------------------------


def _get(path: str, cookie: str) -> tuple[str, str, str, str]:
    return ("GET", path, cookie, "")


def prepare_starts(app: Any, report: Any, browsers: list[Browser], tokens: list[str]) -> Load:
    """One POST .../start per (learner, quiz module): learners interleaved."""
    from sqlalchemy import select

    from courses.catalogue import latest_versions_query
    from courses.models import Course, Module
    from lms import db

    with app.app_context():
        versions = {
            v.course.slug: v
            for v in db.session.scalars(
                latest_versions_query().where(Course.slug.in_(report.course_slugs))
            )
        }
        quiz_modules = [
            (slug, module.slug)
            for slug in report.course_slugs
            for module in db.session.scalars(
                select(Module)
                .where(Module.version_id == versions[slug].id, Module.completed_by_block.is_(True))
                .order_by(Module.position)
            )
        ]
    lines = []
    for slug, module_slug in quiz_modules:
        for browser, token in zip(browsers, tokens, strict=True):
            body = urllib.parse.urlencode({"csrf_token": token})
            lines.append(
                ("POST", f"/quizzes/{slug}/{module_slug}/start", browser.cookie_header, body)
            )
    return Load("quiz start (POST)", lines, expected=302, once=True)


def prepare_heartbeats(module_path: str, browsers: list[Browser]) -> Load:
    """Each learner's heartbeat on the module page, with the page's token, in turn.

    The server runs on the wall clock, so a learner pinged again within the second earns
    nothing and writes nothing (the clock keeps the fraction): with 48 learners cycled at
    hundreds of requests per second, most heartbeats take that path and about one in
    several credits a second and writes. The in-process bench measures the crediting
    path on its own (the platform clock moved 30 s before each heartbeat).
    """
    lines = []
    for browser in browsers:
        status, _headers, body = browser.request("GET", module_path)
        study = STUDY_TOKEN_RE.search(body)
        csrf = CSRF_RE.search(body)
        if status != 200 or study is None or csrf is None:
            raise RuntimeError(f"GET {module_path}: status {status}, no study token")
        form = urllib.parse.urlencode({"csrf_token": csrf.group(1), "token": study.group(1)})
        lines.append(("POST", module_path + "/seen", browser.cookie_header, form))
    return Load("heartbeat (POST)", lines, expected=200)


def prepare_submits(
    app: Any, users: dict[int, tuple[Browser, str]], limit: int
) -> tuple[Load, int]:
    """The open attempts of the learners, oldest first, each with its right answers."""
    from sqlalchemy import select

    from bench.answers import correct_responses, form_fields
    from lms import db
    from quizzes.attempts import spec_of
    from quizzes.models import Attempt, AttemptStatus

    lines = []
    with app.app_context():
        attempts = db.session.scalars(
            select(Attempt)
            .where(Attempt.status == AttemptStatus.OPEN, Attempt.user_id.in_(users))
            .order_by(Attempt.id)
            .limit(limit)
        ).all()
        for attempt in attempts:
            browser, token = users[attempt.user_id]
            fields = form_fields(correct_responses(spec_of(attempt.quiz), attempt.presented))
            body = urllib.parse.urlencode([("csrf_token", token), *fields])
            lines.append(("POST", f"/quizzes/attempts/{attempt.id}", browser.cookie_header, body))
    return Load("quiz submit (POST)", lines, expected=302, once=True), len(lines)


def _check(browser: Browser, path: str, expected: int = 200, marker: str | None = None) -> None:
    status, headers, body = browser.request("GET", path)
    if status != expected or (marker and marker not in body):
        where = headers.get("Location", "")
        raise RuntimeError(f"GET {path}: status {status} {where} (expected {expected})")


def run(report: Any, settings: Settings | None = None, label: str = "") -> dict[str, Any]:
    """Every page of the issue, against the ceiling measured in the same run."""
    from sqlalchemy import select

    from bench.common import big_dashboard_path, make_app
    from courses.catalogue import published_version
    from lms import db
    from lms.accounts.models import User

    settings = settings or Settings()
    loader = Loader(settings)
    log(f"load generator: {loader.tool}; {settings.connections} connections")
    logs = Path(report.instance) / "logs"
    results: dict[str, Any] = {"tool": loader.tool, "settings": settings.__dict__, "pages": {}}
    pages = results["pages"]

    with Server("bench.hello:app", dict(os.environ), logs / "hello.log") as hello:
        pages["hello"] = loader.measure(hello, Load("hello world (ceiling)", [_get("/", "")]))

    env = platform_env(report.database_url, report.instance)
    app = make_app(Path(report.instance), report.database_url)
    first_course = report.course_slugs[0]
    with app.app_context():
        version = published_version(db.session, first_course)
        modules = [m.slug for m in version.modules]
        user_ids = dict(
            db.session.execute(
                select(User.email, User.id).where(User.email.in_(report.learner_emails))
            ).all()
        )
    module_path = f"/courses/{first_course}/modules/{modules[len(modules) // 2]}"

    with Server("wsgi:app", env, logs / f"platform{label}.log") as server:
        port = server.port
        anonymous = Browser(port)
        _check(anonymous, "/account/login", marker="csrf_token")
        pages["login"] = loader.measure(
            server, Load("login page (GET)", [_get("/account/login", "")])
        )

        # Every session first: logins are writes, kept away from the measured loads.
        learner = Browser(port)
        learner.login(report.learner_emails[0], report.password)
        browsers, tokens = [], []
        for email in report.learner_emails[1:]:
            browser = Browser(port)
            browser.login(email, report.password)
            tokens.append(browser.csrf(f"/courses/{first_course}/"))
            browsers.append(browser)
        referent, coordinator = Browser(port), Browser(port)
        with_commitments = app.extensions["lms"].plugin("commitments") is not None
        if with_commitments:
            referent.login(report.referent_email, report.password)
            coordinator.login(report.coordinator_email, report.password)

        _check(learner, f"/courses/{first_course}/")
        _check(learner, module_path)
        pages["course"] = loader.measure(
            server,
            Load("course page (GET)", [_get(f"/courses/{first_course}/", learner.cookie_header)]),
        )
        pages["module"] = loader.measure(
            server, Load("module page (GET)", [_get(module_path, learner.cookie_header)])
        )

        pages["heartbeat"] = loader.measure(
            server, prepare_heartbeats(module_path, [learner, *browsers])
        )

        # Quiz start and submit: the other learners.
        starts = prepare_starts(app, report, browsers, tokens)
        wanted = settings.once_warmup + settings.once_items
        starts.lines = starts.lines[:wanted]
        pages["quiz_start"] = loader.measure(server, starts)
        by_user = {
            user_ids[email]: (browser, token)
            for email, browser, token in zip(
                report.learner_emails[1:], browsers, tokens, strict=True
            )
        }
        submits, count = prepare_submits(app, by_user, wanted)
        if count < wanted:
            log(f"only {count} open attempts to submit (wanted {wanted})")
        pages["quiz_submit"] = loader.measure(server, submits)

        if with_commitments:
            dashboard = big_dashboard_path(app, report.big_organisation_id)
            _check(referent, dashboard)
            pages["dashboard"] = loader.measure(
                server,
                Load(
                    f"referent dashboard ({report.big_organisation_staff} staff)",
                    [_get(dashboard, referent.cookie_header)],
                ),
            )
            _check(coordinator, "/commitments/network/")
            pages["network"] = loader.measure(
                server,
                Load(
                    f"network view ({report.staff} staff)",
                    [_get("/commitments/network/", coordinator.cookie_header)],
                ),
            )
    app.extensions["lms"].engine.dispose()

    ceiling = pages["hello"].rps
    ceiling_cpu = pages["hello"].extra["worker_cpu_ms"]
    out: dict[str, Any] = {}
    for key, measure in pages.items():
        data = measure.to_json()
        data["ratio_to_hello"] = round(measure.rps / ceiling, 4) if ceiling else None
        cpu = measure.extra["worker_cpu_ms"]
        # What the ratio would be if both were only CPU-bound in the workers.
        data["cpu_ratio_to_hello"] = round(ceiling_cpu / cpu, 4) if cpu else None
        out[key] = data
    results["pages"] = out
    return results
