"""Issue 16.1: a certificate PDF is read within fixed bounds, before any signature work.

The finding: a PDF holding many copies of a small, doubly deflated ``certificate.json``
was unpacked copy after copy (an 11 KB file took a worker from 150 MB to 1.6 GB), and a
``/JBIG2Decode`` attachment answered 500. Each hostile file below is now "not readable
as a certificate": 422 with a clear message on the web, exit status 5 on the command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from certificates import attachments, keys
from certificates.verification import Outcome, check_pdf
from lms import db
from tests.certificates import hostile_pdfs
from tests.certificates.conftest import pdf_bytes
from tests.certificates.test_verification import attachments as signed_parts
from tests.certificates.test_verification import cli_verify, upload

ROOT = Path(__file__).resolve().parents[2]
UNREADABLE_PAGE = "File non leggibile come attestato"
UNREADABLE_CLI = "NON LEGGIBILE / UNREADABLE"
EXIT_UNREADABLE = 5
WORKER_PEAK_LIMIT = 200 * 1024 * 1024

HOSTILE: dict[str, Callable[[], bytes]] = {
    "bomb": hostile_pdfs.bomb,
    "doubly deflated once": lambda: hostile_pdfs.bomb(copies=1),
    "deflated once, 64 MB": hostile_pdfs.single_flate_bomb,
    "JBIG2Decode": lambda: hostile_pdfs.with_filter("/JBIG2Decode"),
    "DCTDecode": lambda: hostile_pdfs.with_filter("/DCTDecode"),
    "LZWDecode": lambda: hostile_pdfs.with_filter("/LZWDecode"),
    "cyclic tree": hostile_pdfs.cyclic,
    "deep tree": lambda: hostile_pdfs.nested(b"{}", b"{}", depth=attachments.MAX_TREE_DEPTH + 2),
    "wide tree": lambda: hostile_pdfs.wide(attachments.MAX_TREE_ENTRIES + 1),
    "many kids": lambda: hostile_pdfs.many_kids(attachments.MAX_TREE_NODES + 1),
    "not a stream": hostile_pdfs.not_a_stream,
    "object headers": lambda: hostile_pdfs.object_headers(attachments.MAX_OBJECTS + 1),
    "not a PDF": lambda: b"not a pdf at all",
    "empty": lambda: b"",
}


def public_keys(app: Flask) -> dict:
    return keys.public_keys(db.session)


def assert_unreadable(app: Flask, tmp_path: Path, data: bytes) -> None:
    """The verdict on the web (422, never 500) and in the command line (exit 5)."""
    page = upload(app, data, status=422)
    assert 'data-outcome="unreadable"' in page and UNREADABLE_PAGE in page
    result = cli_verify(app, tmp_path, data)
    assert UNREADABLE_CLI in result.output, result.output
    assert result.exit_code == EXIT_UNREADABLE, result.output


@pytest.fixture
def genuine(app: Flask, make_user, complete) -> bytes:
    return pdf_bytes(app, complete(make_user()))


# --- the finding, in a function and in a worker -------------------------------------


def test_bomb_is_refused_before_anything_is_unpacked(app: Flask):
    bomb = hostile_pdfs.bomb()
    assert len(bomb) < 20_000  # 24 copies of 48 MB, doubly deflated: a few KB on disk
    tracemalloc.start()
    try:
        check = check_pdf(bomb, public_keys(app))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.outcome is Outcome.UNREADABLE
    assert f"more than {attachments.MAX_TREE_ENTRIES} attachments" in check.detail
    assert peak < 2 * 1024 * 1024, peak


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: hostile_pdfs.bomb(copies=1), "2 filters in a chain"),
        (
            hostile_pdfs.single_flate_bomb,
            f"unpacks to more than {attachments.MAX_ATTACHMENT_BYTES}",
        ),
    ],
    ids=["doubly deflated", "deflated once"],
)
def test_an_attachment_is_unpacked_up_to_its_cap_and_no_further(app: Flask, build, reason):
    data = build()
    tracemalloc.start()
    try:
        check = check_pdf(data, public_keys(app))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.outcome is Outcome.UNREADABLE and reason in check.detail, check.detail
    # the 64 MB attachment never becomes more than the cap (plus the parsed file)
    assert peak < 2 * 1024 * 1024, peak


WORKER = """
import io, json, re, sys
from pathlib import Path


def high_water_kib():
    # VmHWM belongs to this process's own memory since exec; ru_maxrss would carry the
    # peak of the forking parent (the test runner, hundreds of MB after a long suite).
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\\s+(\\d+) kB", status, re.M).group(1))


sys.path.insert(0, sys.argv[1])
from tests.conftest import make_test_app
from lms.migrate import upgrade

tmp, pdf = Path(sys.argv[2]), Path(sys.argv[3]).read_bytes()
app = make_test_app(tmp, f"sqlite:///{tmp / 'worker.sqlite3'}")
upgrade(app)
client = app.test_client()
form = client.get("/certificates/verify").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
before = high_water_kib()
response = client.post(
    "/certificates/verify/upload",
    data={"csrf_token": token, "document": (io.BytesIO(pdf), "attestato.pdf")},
    content_type="multipart/form-data",
)
print(json.dumps({
    "status": response.status_code,
    "page": response.get_data(as_text=True),
    "before_kib": before,
    "peak_kib": high_water_kib(),
}))
"""


@pytest.mark.slow  # a subprocess on a PDF bomb
def test_a_worker_verifying_the_bomb_stays_under_200_mb(tmp_path: Path):
    """The upload page in a process of its own (as a gunicorn worker): peak RSS."""
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(hostile_pdfs.bomb())
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(ROOT), str(tmp_path), str(bomb)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] == 422 and 'data-outcome="unreadable"' in report["page"]
    peak = report["peak_kib"] * 1024
    assert peak < WORKER_PEAK_LIMIT, f"peak {peak / 2**20:.0f} MB"
    # and the upload itself added next to nothing to what the worker had already
    assert report["peak_kib"] - report["before_kib"] < 20 * 1024, report


# --- each hostile file, on the web and in the command line --------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_file_is_not_readable_as_a_certificate(app: Flask, tmp_path: Path, name: str):
    assert_unreadable(app, tmp_path, HOSTILE[name]())


def test_truncated_certificate_is_unreadable(app: Flask, tmp_path: Path, genuine: bytes):
    trust = keys.pades_trust(db.session)
    for fraction in (0.1, 0.5, 0.9, 0.99):
        cut = genuine[: int(len(genuine) * fraction)]
        # cut inside the PDF signature's update, the page drawn before it is whole: its
        # embedded data verify, the document is no longer the one signed
        outcome = check_pdf(cut, public_keys(app), pades_trust=trust).outcome
        assert outcome in (Outcome.UNREADABLE, Outcome.ALTERED), fraction
    assert_unreadable(app, tmp_path, genuine[: len(genuine) // 2])


def test_long_index_and_encryption_are_unreadable(app: Flask, tmp_path: Path, genuine: bytes):
    assert_unreadable(app, tmp_path, hostile_pdfs.long_xref(genuine, attachments.MAX_OBJECTS + 1))
    assert_unreadable(app, tmp_path, hostile_pdfs.encrypted(genuine))


def test_nested_attachment_tree_within_bounds_still_verifies(
    app: Flask, tmp_path: Path, genuine: bytes
):
    payload, signature_doc = signed_parts(genuine)
    nested = hostile_pdfs.nested(payload, signature_doc, depth=attachments.MAX_TREE_DEPTH)
    assert check_pdf(nested, public_keys(app)).outcome is Outcome.VALID
    # a PDF made anew around the signed data, without the page: genuine data, another
    # document
    assert 'data-outcome="altered"' in upload(app, nested)
    too_deep = hostile_pdfs.nested(payload, signature_doc, depth=attachments.MAX_TREE_DEPTH + 1)
    assert_unreadable(app, tmp_path, too_deep)


def test_same_name_attached_twice_is_unreadable(app: Flask, tmp_path: Path, genuine: bytes):
    payload, signature_doc = signed_parts(genuine)
    twice = hostile_pdfs.attachments_pdf(
        [
            ("certificate.json", payload, None),
            ("certificate.json", payload, None),
            ("certificate.sig", signature_doc, None),
        ]
    )
    assert_unreadable(app, tmp_path, twice)
    once = hostile_pdfs.attachments_pdf(
        [("certificate.json", payload, None), ("certificate.sig", signature_doc, None)]
    )
    assert check_pdf(once, public_keys(app)).outcome is Outcome.VALID


def test_genuine_certificate_is_far_inside_the_bounds(app: Flask, make_user, complete):
    cert = complete(make_user(name="Maria " + "Lunghissimo-Cognome " * 8))
    data = pdf_bytes(app, cert)
    assert len(data) * 20 < attachments.MAX_PDF_BYTES
    payload, signature_doc = signed_parts(data)
    assert (len(payload) + len(signature_doc)) * 10 < attachments.MAX_TOTAL_BYTES
    assert check_pdf(data, public_keys(app)).outcome is Outcome.VALID


# --- the command line reads a bounded number of bytes --------------------------------


def test_cli_refuses_a_file_larger_than_the_cap(app: Flask, tmp_path: Path, genuine: bytes):
    big = tmp_path / "grande.pdf"
    with big.open("wb") as handle:
        handle.write(genuine)
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MB that cost no disk
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "verify", str(big)])
    assert result.exit_code == EXIT_UNREADABLE and UNREADABLE_CLI in result.output
    assert f"larger than {attachments.MAX_PDF_BYTES} bytes" in result.output


def test_cli_missing_file_is_unreadable_not_a_usage_error(app: Flask, tmp_path: Path):
    result = app.test_cli_runner().invoke(
        args=["lms", "certificates", "verify", str(tmp_path / "manca.pdf")]
    )
    assert result.exit_code == EXIT_UNREADABLE and UNREADABLE_CLI in result.output
