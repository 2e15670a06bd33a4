"""The results as a table: bench/results/latest.json and latest.md (and stdout)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bench.common import RESULTS, write_json

BACKENDS = ("sqlite", "postgresql")
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _num(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def _verdict(values: list[float | None], ok: Any) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "not measured"
    return "met" if all(ok(v) for v in present) else "**missed**"


def rows(results: dict[str, Any]) -> list[list[str]]:
    """Measure | SQLite | PostgreSQL | target | met."""
    size = results.get("size", "?")
    staff = results.get("staff")
    out: list[list[str]] = []

    def per_backend(fmt: Any, *path: str) -> list[str]:
        return [fmt(_get(results, path[0], b, *path[1:])) for b in BACKENDS]

    def values(*path: str) -> list[Any]:
        return [_get(results, path[0], b, *path[1:]) for b in BACKENDS]

    def page_cell(page: dict[str, Any] | None) -> str:
        if not page:
            return "–"
        ratio = page.get("ratio_to_hello")
        rps = page["rps"]
        text = f"{rps:,.0f} req/s" if rps >= 10 else f"{rps:.2f} req/s"
        if ratio is not None and page.get("name") != "hello world (ceiling)":
            percent = 100 * ratio
            text += f" = {percent:.1f} %" if percent >= 1 else f" = {percent:.2g} %"
        text += f"; p50 {page['p50_ms']:,.0f} / p95 {page['p95_ms']:,.0f} ms"
        cpu = (page.get("extra") or {}).get("worker_cpu_ms")
        if cpu is not None:
            text += f"; {cpu:,.1f} ms CPU"
        if page.get("unexpected") or page.get("errors"):
            text += f" ({page['unexpected']} bad status, {page['errors']} errors)"
        return text

    pages = [
        ("hello", "Hello-world Flask, gunicorn 2 workers (the ceiling)", None, None),
        ("login", "Login page (GET)", None, None),
        ("course", "Course page (GET, logged in)", "≥ 50 % of the ceiling", 0.5),
        ("module", "Module page (GET)", "≥ 50 % of the ceiling", 0.5),
        ("heartbeat", "Heartbeat (POST, module page)", "≥ 50 % of the ceiling", 0.5),
        ("quiz_start", "Quiz start (POST, fresh attempt)", None, None),
        ("quiz_submit", "Quiz submit (POST, fresh attempt, passing)", "≥ 30 % of the ceiling", 0.3),
    ]
    for key, label, target, ratio in pages:
        cells = per_backend(page_cell, "http", "pages", key)
        met = ""
        if ratio is not None:
            met = _verdict(
                [v["ratio_to_hello"] if v else None for v in values("http", "pages", key)],
                lambda r, ratio=ratio: r >= ratio,
            )
        out.append([label, *cells, target or "", met])

    big = results.get("big_organisation_staff")
    dashboard = values("http", "pages", "dashboard")
    out.append(
        [
            f"Referent dashboard, {big or '?'} staff × 10 required courses (p95)",
            *[page_cell(v) for v in dashboard],
            "p95 < 150 ms (SQLite and PostgreSQL)",
            _verdict([v["p95_ms"] if v else None for v in dashboard], lambda x: x < 150),
        ]
    )
    network = values("http", "pages", "network")
    at_l = size == "L"
    out.append(
        [
            f"Network view, {staff or '?'} staff (p95)",
            *[page_cell(v) for v in network],
            "< 1 s over 50,000 staff",
            _verdict([v["p95_ms"] if v else None for v in network], lambda x: x < 1000)
            + ("" if at_l else f" (at {_num(staff)} staff; the target is for size L)"),
        ]
    )
    xlsx = values("exports", "xlsx")
    out.append(
        [
            f"XLSX export, {big or '?'} staff (best of 3)",
            *[_num(v["best_s"], 2, " s") if v else "–" for v in xlsx],
            "< 5 s",
            _verdict([v["best_s"] if v else None for v in xlsx], lambda x: x < 5),
        ]
    )
    pdf = values("exports", "pdf")
    out.append(
        [
            f"PDF summary, {big or '?'} staff (best of 3)",
            *[_num(v["best_s"], 2, " s") if v else "–" for v in pdf],
            "",
            "",
        ]
    )
    zipped = _get(results, "zip")
    if zipped:
        how = (
            f"{zipped['certificates']:,} certificates, peak RSS {zipped['peak_rss_mb']} MB "
            f"(baseline {zipped['baseline_rss_mb']} MB)"
        )
        if not zipped["complete"]:
            how += (
                f"; stopped after {zipped['zipped']:,} PDFs in {zipped['seconds']} s "
                f"({zipped['pdfs_per_second']} PDF/s, "
                f"whole ZIP ≈ {zipped['estimated_full_s']:,.0f} s)"
            )
        out.append(
            [
                "ZIP of the organisation's certificates, streamed",
                how,
                "",
                "peak RSS < 300 MB for 5,000",
                _verdict([zipped["peak_rss_mb"]], lambda x: x < 300)
                + ("" if zipped["certificates"] >= 5000 else f" (at {zipped['certificates']:,})"),
            ]
        )
    else:
        out.append(
            [
                "ZIP of the organisation's certificates, streamed",
                "–",
                "–",
                "peak RSS < 300 MB for 5,000",
                "not measured",
            ]
        )
    certs = _get(results, "certificates")
    if certs:
        rate = certs["certificate_pdf"]["per_second"]
        out.append(
            [
                "Certificate PDFs per second, one core, PAdES-signed",
                f"{rate:,.1f}/s (without PAdES "
                f"{certs.get('certificate_pdf_without_pades', {}).get('per_second', 0):,.0f}/s; "
                f"bare fpdf2 page {certs['bare_fpdf2']['per_second']:,.0f}/s)",
                "",
                "≥ 100/s",
                _verdict([rate], lambda x: x >= 100),
            ]
        )
        out.append(
            [
                "Certificate PDF rate ÷ bare fpdf2 rate",
                f"{100 * certs['ratio_to_bare']:.1f} %",
                "",
                "≥ 50 %",
                _verdict([certs["ratio_to_bare"]], lambda x: x >= 0.5),
            ]
        )
        out.append(
            [
                "Verifications per second, one core",
                f"PDF upload check {certs['verify_pdf']['per_second']:,.0f}/s; "
                f"code look-up {certs['verify_code']['per_second']:,.0f}/s",
                "",
                "",
                "",
            ]
        )
    else:
        out.append(
            [
                "Certificate PDFs per second, one core, PAdES-signed",
                "–",
                "–",
                "≥ 100/s",
                "not measured",
            ]
        )
        out.append(["Certificate PDF rate ÷ bare fpdf2 rate", "–", "–", "≥ 50 %", "not measured"])
    out += jobs_rows(results)
    imports = _get(results, "imports")
    if imports:
        for key, label in (("content", "content/"), ("generated", "a generated 200-module course")):
            item = imports.get(key)
            if item:
                out.append(
                    [
                        f"Import {label} ({item['courses']} courses, {item['modules']} modules)",
                        f"{item['seconds']:.2f} s ({item['ms_per_module']} ms/module)",
                        "",
                        "",
                        "",
                    ]
                )
    seeds = values("seed")
    out.append(
        [
            f"Seeding size {size} ({_num(staff)} staff)",
            *[_num(v["total"], 0, " s") if v else "–" for v in seeds],
            "size L < 10 min",
            (
                _verdict([v["total"] if v else None for v in seeds], lambda x: x < 600)
                if at_l
                else f"not measured at this size ({size})"
            ),
        ]
    )
    return out


def _import_cell(item: dict[str, Any] | None) -> str:
    if not item:
        return "–"
    if item["complete"]:
        return (
            f"job {item['job_s']:,.1f} s, wall {item['wall_s']:,.1f} s from the commit "
            f"({item['rows_per_second']:,.0f} rows/s; worker CPU {item['worker_cpu_s']:,.1f} s)"
        )
    errors = item.get("worker_errors") or {}
    stalled = ", stalled (silent 30 s, kept by its lease)" if item.get("stalled") else ""
    return (
        f"not done {item['wall_s']:,.0f} s after the commit{stalled}: {item['status']} at "
        f"{item['done']:,}/{item['total'] or 0:,} rows ({errors.get('jobs_failed', 0)} job "
        f"failures logged, {errors.get('database_locked', 0)} 'database is locked')"
    )


def jobs_rows(results: dict[str, Any]) -> list[list[str]]:
    """The job runner (bench/jobs.py) and the home page beside it (bench/contention.py)."""
    out: list[list[str]] = []

    def jobs(backend: str) -> dict[str, Any]:
        return _get(results, "jobs", backend) or {}

    cells, oks = [], []
    for backend in BACKENDS:
        item = jobs(backend).get("import")
        cell = _import_cell(item)
        single = jobs(backend).get("import_one_thread")
        if single:
            cell += "; with a one-thread worker: " + _import_cell(single)
        retries = jobs(backend).get("enqueue_retries")
        if retries:
            cell += f"; asking for the jobs lost {retries} write races (retried by the bench)"
        cells.append(cell)
        oks.append(None if not item else bool(item["complete"] and item["job_s"] < 10))
    out.append(
        [
            "Job runner: staff import of 5,000 new people (lms worker as deployed)",
            *cells,
            "< 10 s of job time",
            _verdict(oks, bool),
        ]
    )

    def mail_cell(backend: str) -> str:
        mail = jobs(backend).get("mail")
        if not mail:
            return "–"
        text = (
            f"{mail['delivered']:,} of {mail['queued']:,} jobs done in {mail['seconds']:,.0f} s "
            f"({mail['per_second']:,.1f}/s; worker CPU {mail['worker_cpu_ms_per_job']} ms each)"
        )
        locked = (mail.get("worker_errors") or {}).get("database_locked")
        return text + (f"; {locked} 'database is locked' in the worker's log" if locked else "")

    out.append(
        ["Job runner: the import's invitations (the jobs it queued for them)"]
        + [mail_cell(b) for b in BACKENDS]
        + ["", ""]
    )

    def zip_cell(backend: str) -> str:
        item = jobs(backend).get("zip")
        if not item:
            return "–"
        total = item.get("total") or 0
        if item["complete"]:
            text = (
                f"{total:,} certificates ready in {item['job_s']:,.1f} s "
                f"(wall {item['wall_s']:,.1f} s)"
            )
        else:
            text = (
                f"{total:,} certificates: {item['done']:,} PDFs in {item['running_s']:,.0f} s "
                f"(cap), whole ≈ {item['estimated_full_s'] or 0:,.0f} s"
            )
        rate, whole = item["pdfs_per_second"] or 0, item["estimated_5000_s"] or 0
        cpu = item.get("worker_cpu_s")
        return text + f"; {rate:,.1f} PDF/s, 5,000 ≈ {whole:,.0f} s; worker CPU {cpu} s"

    out.append(
        ["Job runner: ZIP of the organisation's current certificates (time to ready)"]
        + [zip_cell(b) for b in BACKENDS]
        + ["", ""]
    )

    def beat(busy: dict[str, Any]) -> str:
        item = busy.get("heartbeat")
        if not item or not item.get("requests"):
            return ""
        return (
            f"; a learner's heartbeat (POST) between them p95 {item['p95_ms']:,.0f} / max "
            f"{item['max_ms']:,.0f} ms"
            + (f", {item['bad_status']} failed" if item.get("bad_status") else "")
        )

    def window(busy: dict[str, Any]) -> str:
        at_end = busy.get("jobs_at_end") or {}
        zipped, imported = at_end.get("zip") or {}, at_end.get("import") or {}
        return (
            f"p50 {busy['p50_ms']:,.0f} / p95 {busy['p95_ms']:,.0f} ms (max "
            f"{busy['max_ms']:,.0f} ms{beat(busy)}; at the end ZIP {zipped.get('status')} "
            f"{zipped.get('done')}/{zipped.get('total')}, import {imported.get('status')} "
            f"{imported.get('done')}/{imported.get('total')})"
        )

    def home_cell(backend: str) -> str:
        item = _get(results, "contention", backend)
        if not item:
            return "–"
        alone, busy = item["alone"], item["busy"]
        text = (
            f"{item['window_s']:.0f} s each: alone p50 {alone['p50_ms']:,.0f} / p95 "
            f"{alone['p95_ms']:,.0f} ms{beat(alone)}; while the jobs run (worker as "
            "deployed) " + window(busy)
        )
        if busy.get("jobs_failed_in_window"):
            text += ": a job's attempt failed in the window (it stopped working)"
        elif not busy.get("work_done_in_window"):
            text += ": the jobs did no work in the window"
        one = item.get("busy_one_thread")
        if one:
            text += "; with a one-thread worker " + window(one)
        if item.get("enqueue_retries"):
            text += f"; asking for the jobs lost {item['enqueue_retries']} write races"
        return text

    def home_ok(item: dict[str, Any] | None) -> bool | None:
        if not item:
            return None
        return item["met"] if item["met"] is not None else item.get("met_one_thread")

    contention = [_get(results, "contention", b) for b in BACKENDS]
    verdict = _verdict([home_ok(c) for c in contention], bool)
    if any(c and c["met"] is None and home_ok(c) is not None for c in contention):
        verdict += " (one-thread worker)"
    out.append(
        [
            "Referent's home page, one client, alone and while a ZIP and a 5,000-row import run",
            *[home_cell(b) for b in BACKENDS],
            "p95 while jobs run < 2× alone and < 2 s",
            verdict,
        ]
    )

    def beat_cell(backend: str) -> str:
        item = _get(results, "contention", backend)
        if not item or not (item["busy"].get("heartbeat") or {}).get("requests"):
            return "–"
        alone, busy = item["alone"]["heartbeat"], item["busy"]["heartbeat"]
        return (
            f"alone p50 {alone['p50_ms']:,.0f} / max {alone['max_ms']:,.0f} ms; while the "
            f"jobs run p50 {busy['p50_ms']:,.0f} / max {busy['max_ms']:,.0f} ms "
            f"({busy['requests']} in {item['window_s']:.0f} s, after each home page)"
        )

    beats = [((c or {}).get("busy") or {}).get("heartbeat") or {} for c in contention]
    out.append(
        [
            "A learner's heartbeat (POST, a write) in the same windows",
            *[beat_cell(b) for b in BACKENDS],
            "no request > 2 s while jobs run",
            _verdict([b.get("max_ms") for b in beats], lambda x: x < 2000),
        ]
    )
    return out


def inprocess_rows(results: dict[str, Any]) -> list[list[str]]:
    names = {
        "login": "Login page",
        "floor": "/healthz, logged in (the platform's floor)",
        "course": "Course page",
        "module": "Module page",
        "heartbeat": "Heartbeat (module page, crediting)",
        "quiz_start": "Quiz start",
        "quiz_submit": "Quiz submit",
        "dashboard": "Referent dashboard",
        "network": "Network view",
    }
    out = []
    for key, label in names.items():
        cells = []
        for backend in BACKENDS:
            item = _get(results, "inprocess", backend, key)
            cell = f"{item['cpu_ms']:,.1f} ms, {item['statements']} statements" if item else "–"
            if item and item.get("ratio_to_hello") is not None:
                cell += f" = {100 * item['ratio_to_hello']:.1f} % of hello-world's CPU"
            cells.append(cell)
        if any(c != "–" for c in cells):
            out.append([label, *cells])
    return out


def dashboard_rows(results: dict[str, Any]) -> list[list[str]]:
    """The dashboard part (bench/dashboard.py): each shape, the units case included."""
    out = []
    names: list[tuple[str, ...]] = []
    for backend in BACKENDS:
        found = _get(results, "dashboard", backend) or {}
        for key, value in found.items():
            if isinstance(value, dict) and "cpu_ms" in value and (key,) not in names:
                names.append((key,))
        for key, value in (found.get("units") or {}).items():
            if isinstance(value, dict) and ("units", key) not in names:
                names.append(("units", key))
    for path in names:
        cells = []
        for backend in BACKENDS:
            item = _get(results, "dashboard", backend, *path)
            cells.append(
                f"{item['cpu_ms']:,.1f} ms CPU, {item['statements']} statements" if item else "–"
            )
        cpus = [_get(results, "dashboard", b, *path, "cpu_ms") for b in BACKENDS]
        unit_staff = _get(results, "dashboard", BACKENDS[0], "units", "staff") or "?"
        label = path[-1] if len(path) == 1 else f"unit of {unit_staff}: {path[-1]}"
        out.append([label, *cells, "< 150 ms", _verdict(cpus, lambda x: x < 150)])
    return out


def table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    lines = [
        f"# Benchmark results — size {results.get('size')} ({results.get('staff', 0):,} staff)",
        "",
        f"Run {results.get('date')}, `{results.get('command')}`, "
        f"{results.get('duration_s', 0) / 60:.1f} min.",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores')} cores, "
        f"{machine.get('memory')}, {machine.get('os')}, Python {machine.get('python')}; "
        f"{results.get('postgres_version') or 'PostgreSQL not run'}. "
        f"Load average before/after: {results.get('load_before')} / {results.get('load_after')}.",
        "",
        f"Load generator: {results.get('load_tool', '?')} on 127.0.0.1, "
        f"{results.get('connections', '?')} connections, "
        f"{results.get('http_duration', '?')} s per page after a warm-up; gunicorn "
        "with the repository's gunicorn.conf.py (2 gthread workers; 1 request thread each "
        "on SQLite, 4 on PostgreSQL), JSON logs, no access log. Ratios are to the "
        "hello-world ceiling "
        "measured in the same run, on the same database backend's run.",
        "",
        table(["Measure", "SQLite", "PostgreSQL", "Target", "Met"], rows(results)),
        "",
        "## Cost per request, in process",
        "",
        "CPU time (median) and SQL statements (BEGIN included on SQLite) per request, "
        "Flask test client, no load generator: the figures behind the ratios.",
        "",
        table(["Page", "SQLite", "PostgreSQL"], inprocess_rows(results)),
    ]
    shapes = dashboard_rows(results)
    if shapes:
        lines += [
            "",
            "## Referent dashboard by shape, in process",
            "",
            "CPU (median) per request of the big organisation's dashboard, and of one unit's "
            "(issue 18). The 150 ms target is for the p95 under load; a request's CPU is "
            "its floor.",
            "",
            table(["Shape", "SQLite", "PostgreSQL", "Target", "Met"], shapes),
        ]
    notes = results.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], directory: Path = RESULTS) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    results.setdefault("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    text = markdown(results)
    write_json(directory / "latest.json", results)
    (directory / "latest.md").write_text(text, encoding="utf-8")
    return text
