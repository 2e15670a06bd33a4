"""Certificates per second on one core, against a bare fpdf2 page in the same run.

    .venv/bin/python -m bench.certificates --instance DIR --database-url URL [--n 200]

Runs in its own process pinned to one CPU (``sched_setaffinity``), on a seeded
database (``bench.seed``): the signed PDFs of seeded certificates, drawn with the
certificates package's own ``certificate_pdf`` (page, font, QR code, signed
attachments, PAdES signature with its visible stamp), and the same without the PAdES
signature for comparison; verification with its own ``check_pdf`` (the check of an
uploaded PDF: attachments, Ed25519 signature, PAdES signature with pyHanko's validator,
the page's text) and ``find_by_code`` (the page behind a typed or scanned code).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _rate(n: int, action: Callable[[int], object]) -> dict[str, float]:
    action(0)  # warm-up: imports, font cache
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        action(i)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "per_second": round(n / wall, 1),
        "per_cpu_second": round(n / cpu, 1) if cpu else 0.0,
        "ms_each": round(1000 * wall / n, 2),
        "n": n,
    }


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


def measure(instance: Path, database_url: str, n: int) -> dict[str, Any]:
    import dataclasses

    from sqlalchemy import select

    from bench.common import make_app
    from certificates import keys, pdf
    from certificates.documents import certificate_pdf, render_options
    from certificates.models import Certificate
    from certificates.verification import check_pdf, find_by_code
    from lms import db

    cpu = None
    if hasattr(os, "sched_setaffinity"):
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    app = make_app(instance, database_url)
    results: dict[str, Any] = {"pinned_cpu": cpu}
    with app.test_request_context():
        certs = list(db.session.scalars(select(Certificate).order_by(Certificate.id).limit(n + 1)))
        for cert in certs:  # load what the PDF prints (holder's locale) before timing
            _ = cert.user.locale
        results["bare_fpdf2"] = _rate(n, bare_page)
        pdfs: list[bytes] = []
        results["certificate_pdf"] = _rate(
            n, lambda i: pdfs.append(certificate_pdf(certs[i % len(certs)]))
        )
        results["pades"] = True  # certificate_pdf includes the PAdES signature

        def unsigned(i: int) -> bytes:
            cert = certs[i % len(certs)]
            return pdf.render(cert, dataclasses.replace(render_options(cert), sealer=None))

        results["certificate_pdf_without_pades"] = _rate(n, unsigned)
        public = keys.public_keys(db.session)
        trust = keys.pades_trust(db.session)
        results["verify_pdf"] = _rate(
            n, lambda i: check_pdf(pdfs[i % len(pdfs)], public, pades_trust=trust)
        )
        codes = [c.code for c in certs]
        results["verify_code"] = _rate(n, lambda i: find_by_code(db.session, codes[i % len(codes)]))
        results["pdf_kilobytes"] = round(sum(map(len, pdfs)) / len(pdfs) / 1024, 1)
    bare = results["bare_fpdf2"]["per_second"]
    results["ratio_to_bare"] = round(results["certificate_pdf"]["per_second"] / bare, 4)
    app.extensions["lms"].engine.dispose()
    return results


def run(instance: str, database_url: str, n: int = 200) -> dict[str, Any]:
    """In a subprocess, so that pinning to one core leaves the caller alone."""
    import subprocess

    from bench.common import ROOT, log

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.certificates",
            "--instance",
            instance,
            "--database-url",
            database_url,
            "--n",
            str(n),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    results = json.loads(out.strip().splitlines()[-1])
    log(
        f"certificates: {results['certificate_pdf']['per_second']} PDF/s on one core with "
        f"PAdES ({results['certificate_pdf_without_pades']['per_second']}/s without), "
        f"bare fpdf2 {results['bare_fpdf2']['per_second']}/s "
        f"(ratio {results['ratio_to_bare']:.2f}); verify PDF "
        f"{results['verify_pdf']['per_second']}/s, code {results['verify_code']['per_second']}/s"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(measure(args.instance, args.database_url, args.n)))


if __name__ == "__main__":
    main()
