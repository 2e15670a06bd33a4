"""Certificates per second on one core: issuing, drawing, signing (Ed25519 payload and
PAdES document signature), verifying, vs a bare fpdf2 page.

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


HOLDERS = (
    "Maria Rossi",
    "Łukasz Wójcik",
    "Şükrü Öztürk",
    "Nguyễn Thị Minh",
    "Zoë D'Angelo",
    "Αθηνά Παπαδοπούλου",
    "Ольга Иванова",
    "Ahmed El-Sayed",
)


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
            "LMS_BASE_URL": "http://127.0.0.1",
        }
    )
    import logging

    logging.getLogger("lms").setLevel(logging.WARNING)
    logging.getLogger("certificates").setLevel(logging.WARNING)

    import dataclasses

    from certificates import keys
    from certificates.config import issuer_settings
    from certificates.documents import certificate_pdf, render_options
    from certificates.issuing import issue
    from certificates.pdf import draw, render
    from certificates.verification import check_pdf

    with app.test_request_context():
        upgrade(app)
        seed_registry(db.session)
        organisation = organisation_by_code(db.session, "CDM-PL-NTDM")
        holders = []
        for number, name in enumerate(HOLDERS):
            holder = create_user(db.session, f"bench{number}@rete-milano.test", name)
            add_member(
                db.session,
                organisation,
                email=holder.email,
                full_name=holder.full_name,
                audience_code="polizia_locale",
            )
            holders.append(holder)
        db.session.commit()
        settings = issuer_settings(app)
        counter = iter(range(10**9))

        def issue_one(i: int) -> object:
            event = CompletionEvent(
                user_id=holders[i % len(holders)].id,
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

        cert = issue_one(HOLDERS.index("Nguyễn Thị Minh"))
        options = render_options(cert)
        # distinct certificates (code, QR, holder's letters), as in a ZIP export
        others = [issue_one(i) for i in range(n + 1)]
        print(f"one core; {n} documents per measure\n")
        bare = rate("bare fpdf2 one-page document", n, bare_page)
        rate("certificate page drawn (fpdf2 + font + QR)", n, lambda _i: draw(cert, options))
        unsigned = dataclasses.replace(options, sealer=None)
        rate("certificate PDF without PAdES (+ attachments)", n, lambda _i: render(cert, unsigned))
        full = rate("certificate PDF (+ attachments, PAdES)", n, lambda _i: certificate_pdf(cert))
        distinct = rate(
            "certificate PDFs with PAdES, each a different one",
            n,
            lambda i: certificate_pdf(others[i + 1]),
        )
        rate("issuing (DB row + Ed25519 signature, commit)", n, issue_one)
        rate("issuing + its PDF (PAdES)", n, lambda i: certificate_pdf(issue_one(i)))
        public = keys.public_keys(db.session)
        trust = keys.pades_trust(db.session)
        signed = certificate_pdf(cert)
        rate(
            "verifying an uploaded PDF (payload, PAdES, text)",
            n,
            lambda _i: check_pdf(signed, public, pades_trust=trust),
        )
        print(
            f"\ncertificate PDF with PAdES costs {bare / full:.1f}x a bare fpdf2 page"
            f" ({full / bare:.0%} of its rate; {distinct / bare:.0%} for distinct ones)"
        )


if __name__ == "__main__":
    main()
