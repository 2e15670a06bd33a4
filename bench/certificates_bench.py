"""Certificates per second on one core: issuing, drawing, signing, vs a bare fpdf2 page.

    .venv/bin/python -m bench.certificates_bench [--n 200]
    .venv/bin/python bench/certificates_bench.py [--n 200]

Runs against a throwaway SQLite database and instance folder, pinned to one
CPU when the OS allows it. Prints one line per measure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if not __package__:  # run as a file: keep bench/ modules from shadowing the stdlib
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]


def rate(label: str, n: int, action: Callable[[int], object]) -> float:
    """Documents per second of CPU time (robust to other load) and of wall-clock time."""
    action(-1)  # warm-up (font cache, imports)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        action(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    per_second = n / cpu
    print(
        f"{label:<46} {per_second:7.1f} /s CPU ({cpu / n * 1000:6.1f} ms)"
        f"  {n / wall:7.1f} /s wall  n={n}"
    )
    return per_second


def bare_page(_i: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=24)
    pdf.cell(text="Attestato di formazione")
    pdf.ln(12)
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Maria Rossi - Accoglienza e orientamento delle donne - 8 ore")
    return bytes(pdf.output())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    n = parser.parse_args().n
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

    from lms import create_app, db
    from lms.accounts.services import create_user
    from lms.migrate import upgrade
    from lms.organisations.services import add_member, organisation_by_code, seed_registry
    from lms.signals import CompletionEvent

    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp / "instance"),
            "LMS_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "LMS_LOG_JSON": False,
            "LMS_MAIL_BACKEND": "console",
        }
    )
    import logging

    logging.getLogger("lms").setLevel(logging.WARNING)
    logging.getLogger("certificates").setLevel(logging.WARNING)

    from certificates.config import issuer_settings
    from certificates.documents import certificate_pdf, render_options
    from certificates.issuing import issue
    from certificates.pdf import draw

    with app.test_request_context():
        upgrade(app)
        seed_registry(db.session)
        user = create_user(db.session, "bench@rete-milano.test", "Nguyễn Thị Minh")
        add_member(
            db.session,
            organisation_by_code(db.session, "CDM-PL-NTDM"),
            email=user.email,
            full_name=user.full_name,
            audience_code="polizia_locale",
        )
        db.session.commit()
        settings = issuer_settings(app)
        counter = iter(range(10**9))

        def issue_one(_i: int) -> object:
            event = CompletionEvent(
                user_id=user.id,
                kind="course",
                key="course:bench",
                completion_ref=f"bench:{next(counter)}",
                title="Accoglienza e orientamento delle donne",
                version_label="2026.1",
                hours=8,
                completed_at=dt.datetime.now(dt.UTC),
                renewal_months=24,
            )
            cert = issue(db.session, event, settings)
            db.session.commit()
            return cert

        cert = issue_one(0)
        options = render_options(cert)
        print(f"one core; {n} documents per measure\n")
        bare = rate("bare fpdf2 one-page document", n, bare_page)
        rate("certificate page drawn (fpdf2 + font + QR)", n, lambda _i: draw(cert, options))
        full = rate(
            "certificate PDF (+ signed attachments, pypdf)", n, lambda _i: certificate_pdf(cert)
        )
        rate("issuing (DB row + Ed25519 signature, commit)", n, issue_one)
        rate("issuing + its PDF", n, lambda i: certificate_pdf(issue_one(i)))
        print(f"\ncertificate PDF costs {bare / full:.0f}x a bare fpdf2 page")


if __name__ == "__main__":
    main()
