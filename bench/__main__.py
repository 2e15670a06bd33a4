"""``python -m bench`` (``make bench``): seed, measure, write the table.

    .venv/bin/python -m bench [--size S|M|L] [--only http,inprocess,exports,zip,
                               certificates,imports,dashboard,jobs,contention]
                              [--no-postgres]

Size from ``--size``, else ``BENCH_SIZE``, else M (10,000 staff; the Polizia
Locale with 5,000). SQLite always (a file in a temp dir); PostgreSQL on
``BENCH_DATABASE_URL`` (a database the bench may empty!) or else on a throwaway
cluster when Debian's PostgreSQL binaries are installed (as ``tools/run-tests``).
Results: bench/results/latest.json and latest.md; the table is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import traceback
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import report as report_module
from bench.common import Timer, log, machine, postgres_bin, postgres_cluster, postgres_version

PARTS = (
    "http",
    "inprocess",
    "exports",
    "zip",
    "certificates",
    "imports",
    "dashboard",
    "jobs",
    "contention",
)


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def backend_run(
    name: str, url: str | None, args: argparse.Namespace, results: dict[str, Any], work: Path
) -> Any:
    from bench import exports, http, inprocess, seed

    log(f"--- {name}: seeding size {args.size}")
    seeded = seed.seed(
        args.size,
        args.seed,
        database_url=url,
        instance=work / f"{name}-instance",
        reset=True,
    )
    results["seed"][name] = seeded.seconds
    results["staff"] = seeded.staff
    results["big_organisation_staff"] = seeded.big_organisation_staff
    log(f"{name}: seeded {seeded.staff:,} staff in {seeded.seconds['total']:.0f} s")
    if "inprocess" in args.parts:
        # The slow aggregate pages once only (SQLite): HTTP measures them on both.
        heavy = name == "sqlite" or "http" not in args.parts
        results["inprocess"][name] = inprocess.run(seeded, heavy_pages=heavy)
    if "http" in args.parts:
        settings = http.Settings(duration=args.duration)
        results["http"][name] = http.run(seeded, settings, label=f"-{name}")
        results["load_tool"] = results["http"][name]["tool"]
        results["connections"] = settings.connections
        results["http_duration"] = settings.duration
    if "exports" in args.parts:
        results["exports"][name] = exports.documents(seeded)
    if "dashboard" in args.parts:  # bench/dashboard.py: at size L with --size L
        from bench import dashboard

        results.setdefault("dashboard", {})[name] = dashboard.run(seeded)
    # Last: both import 5,000 new people into the big organisation (bench/jobs.py).
    if "jobs" in args.parts:
        from bench import jobs

        results.setdefault("jobs", {})[name] = jobs.run(seeded, label=f"-{name}")
    if "contention" in args.parts:
        from bench import contention

        results.setdefault("contention", {})[name] = contention.run(seeded, label=f"-{name}")
    return seeded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--size", choices=["S", "M", "L"], default=os.environ.get("BENCH_SIZE", "M")
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "8"))
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases (temp dir)")
    args = parser.parse_args(argv)
    args.parts = set(args.only.split(",")) if args.only else set(PARTS)

    timer = Timer()
    command = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    results: dict[str, Any] = {
        "size": args.size,
        "command": f"BENCH_SIZE={args.size} make bench"
        if not args.only and not args.no_postgres
        else command.strip(),
        "machine": machine(),
        "load_before": _load(),
        "seed": {},
        "http": {},
        "inprocess": {},
        "exports": {},
        "notes": [],
    }
    work = Path(tempfile.mkdtemp(prefix="lms-bench-run-"))
    log(f"size {args.size}; working in {work}; load average {_load()}")
    status = 0
    try:
        sqlite = None if args.no_sqlite else backend_run("sqlite", None, args, results, work)
        if sqlite is not None and "zip" in args.parts:
            from bench import exports

            results["zip"] = exports.zip_stream(
                sqlite, cap_seconds=float(os.environ.get("BENCH_ZIP_SECONDS", "45"))
            )
        if sqlite is not None and "certificates" in args.parts:
            from bench import certificates

            results["certificates"] = certificates.run(
                sqlite.instance, sqlite.database_url, n=int(os.environ.get("BENCH_PDFS", "100"))
            )
        if "imports" in args.parts:
            from bench import imports

            results["imports"] = imports.run()

        pg_url = os.environ.get("BENCH_DATABASE_URL")
        if args.no_postgres:
            results["notes"].append("PostgreSQL not run (--no-postgres).")
        elif pg_url or postgres_bin():
            with ExitStack() as stack:
                if not pg_url:
                    pg_url = stack.enter_context(postgres_cluster())
                    results["postgres_version"] = postgres_version()
                backend_run("postgresql", pg_url, args, results, work)
        else:
            results["notes"].append(
                "PostgreSQL not run: no BENCH_DATABASE_URL and no Debian PostgreSQL binaries."
            )
    except Exception:  # write what was measured, then fail
        traceback.print_exc()
        results["notes"].append("The run stopped on an error: " + traceback.format_exc(limit=1))
        status = 1
    finally:
        results["load_after"] = _load()
        results["duration_s"] = round(timer.seconds, 1)
        if args.keep or status:
            log(f"databases, instances and server logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = report_module.write(results)
    print()
    print(text)
    log(f"done in {timer.seconds / 60:.1f} min: bench/results/latest.md")
    return status


if __name__ == "__main__":
    sys.exit(main())
