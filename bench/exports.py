"""Exports of the largest organisation: XLSX matrix, PDF summary, ZIP of certificates.

XLSX and PDF go through the referent's own URLs (Flask test client, logged in as
the organisation's referent): the whole view, evaluation included. The ZIP streams
the organisation's current certificates (at most 5,000) through the certificates
package's ``zip_chunks``, in a subprocess of its own, so that its peak RSS
(``VmHWM``) is the streaming's and nothing else's.

    .venv/bin/python -m bench.exports zip --instance DIR --database-url URL [--limit 5000]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, log, make_app

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def referent_client(app: Any, email: str, password: str) -> Any:
    client = app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/account/login", data={"csrf_token": token, "email": email, "password": password}
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {email}: {response.status_code}")
    return client


def documents(report: Any, repeat: int = 3) -> dict[str, Any]:
    """Seconds for the XLSX export and the PDF summary (best and median of ``repeat``)."""
    app = make_app(Path(report.instance), report.database_url)
    if app.extensions["lms"].plugin("commitments") is None:
        return {}
    client = referent_client(app, report.referent_email, report.password)
    base = f"/commitments/organisations/{report.big_organisation_id}"
    results: dict[str, Any] = {}
    for key, path in (("xlsx", "/export.xlsx"), ("pdf", "/summary.pdf")):
        times, size = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(base + path)
            data = response.get_data()
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: status {response.status_code}")
            size = len(data)
        results[key] = {
            "best_s": round(min(times), 3),
            "median_s": round(statistics.median(times), 3),
            "kilobytes": round(size / 1024, 1),
            "staff": report.big_organisation_staff,
        }
        log(
            f"export {key}: {min(times):.2f} s best, {statistics.median(times):.2f} s median "
            f"({size / 1024:.0f} kB, {report.big_organisation_staff} staff)"
        )
    app.extensions["lms"].engine.dispose()
    return results


def zip_in_process(
    instance: Path, database_url: str, organisation_id: int, limit: int, cap_seconds: float
) -> dict[str, Any]:
    """Stream the ZIP, counting bytes; report RSS before and the peak.

    All ``limit`` rows are loaded first (as the view does); the stream stops early after
    ``cap_seconds`` (the figures then say how far it got and what the whole would take).
    """
    from certificates.config import expiring_days
    from certificates.documents import zip_chunks
    from certificates.listing import organisation_certificates
    from lms import db

    app = make_app(instance, database_url)
    with app.test_request_context():
        # Warm: imports, font cache, one PDF; then the baseline.
        rows = organisation_certificates(
            db.session, organisation_id, status="current", expiring_days=expiring_days()
        )[:1]
        for _chunk in zip_chunks(rows):
            pass
        db.session.remove()
        baseline = _status_kb("VmRSS")
        started = time.perf_counter()
        rows = organisation_certificates(
            db.session, organisation_id, status="current", expiring_days=expiring_days()
        )[:limit]
        loaded = time.perf_counter() - started
        total = zipped = 0
        stream = zip_chunks(rows)
        for chunk in stream:  # one chunk per file: the index, then one per PDF
            total += len(chunk)
            zipped += 1
            if time.perf_counter() - started > cap_seconds:
                stream.close()
                break
        seconds = time.perf_counter() - started
        zipped = max(0, zipped - 1)  # the index
    per_second = zipped / (seconds - loaded) if seconds > loaded else 0.0
    return {
        "certificates": len(rows),
        "zipped": zipped,
        "complete": zipped >= len(rows),
        "megabytes": round(total / 1024 / 1024, 1),
        "seconds": round(seconds, 1),
        "rows_loaded_s": round(loaded, 2),
        "pdfs_per_second": round(per_second, 1),
        "estimated_full_s": round(loaded + len(rows) / per_second, 0) if per_second else None,
        "baseline_rss_mb": round(baseline / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
    }


def zip_stream(report: Any, limit: int = 5000, cap_seconds: float = 60.0) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.exports",
            "zip",
            "--instance",
            report.instance,
            "--database-url",
            report.database_url,
            "--organisation",
            str(report.big_organisation_id),
            "--limit",
            str(limit),
            "--cap-seconds",
            str(cap_seconds),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    log(
        f"ZIP of {result['certificates']} certificates ({result['zipped']} zipped): "
        f"{result['megabytes']} MB in {result['seconds']} s, {result['pdfs_per_second']} PDF/s, "
        f"peak RSS {result['peak_rss_mb']} MB (baseline {result['baseline_rss_mb']} MB)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["zip"])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--organisation", type=int, required=True)
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--cap-seconds", type=float, default=60.0)
    args = parser.parse_args()
    result = zip_in_process(
        args.instance, args.database_url, args.organisation, args.limit, args.cap_seconds
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
