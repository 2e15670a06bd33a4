"""Altered documents: the embedded data still verify, the document a reader sees does not.

Each forgery is made the way a forger would make it (pypdf, fpdf2, pyHanko), and each is
reported "altered" by the public upload page and by ``lms certificates verify`` (exit 6),
with the details that were really signed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from pathlib import Path

import pytest
from flask import Flask
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader, PdfWriter

from certificates import documents, issuing, keys, pades
from certificates.verification import Outcome, Page, check_pdf
from lms import clock, db
from tests.certificates.conftest import pdf_bytes, replace_attachments
from tests.certificates.test_verification import attachments, cli_verify, upload

HOLDER = "Giulia Bianchi"
TITLE = "Accoglienza e orientamento delle donne"
FORGED = "Qualcun Altro"


def assert_altered(app: Flask, tmp_path: Path, data: bytes, document: Page) -> None:
    check = check_pdf(data, keys.public_keys(db.session), pades_trust=keys.pades_trust(db.session))
    assert check.outcome is Outcome.ALTERED, (check.outcome, check.detail)
    assert check.document is document, check.detail
    result = cli_verify(app, tmp_path, data)
    assert result.exit_code == 6, result.output
    assert "DOCUMENTO ALTERATO / DOCUMENT ALTERED" in result.output
    assert f"Titolare / holder: {HOLDER}" in result.output  # what was really signed
    page = upload(app, data)
    assert 'data-outcome="altered"' in page and 'data-outcome="valid"' not in page
    holder = re.search(r'data-fact="holder"><strong>([^<]*)<', page)
    assert holder and holder.group(1) == HOLDER


@pytest.fixture
def genuine(app: Flask, make_user, complete) -> bytes:
    """A certificate issued after the installation began to sign PDFs."""
    with clock.frozen(clock.now()):
        documents_ready(app)
        clock.advance(dt.timedelta(minutes=1))
        cert = complete(make_user(name=HOLDER), title=TITLE)
        return pdf_bytes(app, cert)


def documents_ready(app: Flask) -> None:
    with app.test_request_context():
        documents.sealer()  # the PAdES key and certificate exist from now on


def name_over(original: bytes, name: str = FORGED) -> FPDF:
    """A transparent page the size of a certificate, a white box and another name on it
    where the holder's name is printed."""
    box = PdfReader(io.BytesIO(original)).pages[0].mediabox
    pdf = FPDF(unit="pt", format=(float(box.width), float(box.height)))
    pdf.add_page()
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(150, 200, 540, 50, style="F")
    pdf.set_font("helvetica", size=28)
    pdf.set_xy(150, 205)
    pdf.cell(540, 40, name, align="C")
    return pdf


def overlay(original: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    stamp = PdfReader(io.BytesIO(bytes(name_over(original).output()))).pages[0]
    writer.pages[0].merge_page(stamp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_untouched_certificate_is_valid(app: Flask, tmp_path: Path, genuine: bytes):
    result = cli_verify(app, tmp_path, genuine)
    assert result.exit_code == 0, result.output
    page = upload(app, genuine)
    assert 'data-outcome="valid"' in page and "Confronta questi dati" in page


def test_name_laid_over_the_page_is_altered(app: Flask, tmp_path: Path, genuine: bytes):
    forged = overlay(genuine)
    text = PdfReader(io.BytesIO(forged)).pages[0].extract_text()
    assert FORGED in text  # what a reader would see on top
    payload, _signature = attachments(forged)
    assert HOLDER.encode() in payload  # the embedded data still verify ...
    assert check_pdf(forged, keys.public_keys(db.session)).outcome is Outcome.VALID
    assert_altered(app, tmp_path, forged, Page.BROKEN)  # ... the document does not


def test_overlay_in_an_incremental_update_is_altered(app: Flask, tmp_path: Path, genuine: bytes):
    """The signed bytes kept as they are, the forgery appended after them (pyHanko)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(genuine))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    content = b"q 1 1 1 rg 150 330 540 50 re f Q BT /F1 28 Tf 0 g 250 345 Td (Qualcun Altro) Tj ET"
    stream = writer.add_object(generic.StreamObject(stream_data=content))
    old = page["/Contents"]
    contents = list(old) if isinstance(old, generic.ArrayObject) else [old]
    page["/Contents"] = generic.ArrayObject([*contents, stream])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    forged = out.getvalue()
    assert forged.startswith(genuine)
    assert_altered(app, tmp_path, forged, Page.BROKEN)


def test_anything_appended_after_signing_is_altered(app: Flask, tmp_path: Path, genuine: bytes):
    writer = IncrementalPdfFileWriter(io.BytesIO(genuine))
    writer.set_info(
        generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject(FORGED)})
    )  # noqa: E501
    out = io.BytesIO()
    writer.write(out)
    assert_altered(app, tmp_path, out.getvalue(), Page.BROKEN)


def test_a_byte_changed_in_the_content_stream_is_altered(
    app: Flask, tmp_path: Path, genuine: bytes
):
    reader = PdfReader(io.BytesIO(genuine))
    raw = reader.pages[0]["/Contents"].get_object()._data  # the stored (compressed) bytes
    assert zlib.decompress(raw).count(b"Tj") > 5  # the page's text is in this stream
    start = genuine.index(raw)
    for offset in (len(raw) // 2, len(raw) - 3):
        edited = bytearray(genuine)
        edited[start + offset] ^= 0x01
        assert_altered(app, tmp_path, bytes(edited), Page.BROKEN)


def test_page_rebuilt_without_the_pdf_signature_is_altered(
    app: Flask, tmp_path: Path, genuine: bytes
):
    """The page copied into a new file, with the genuine attachments: no PDF signature,
    on a certificate issued when the installation already signed every PDF."""
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(overlay(genuine))).pages[0])
    payload, signature = attachments(genuine)
    writer.add_attachment("certificate.json", payload)
    writer.add_attachment("certificate.sig", signature)
    out = io.BytesIO()
    writer.write(out)
    assert_altered(app, tmp_path, out.getvalue(), Page.MISSING)


def test_page_without_the_signed_name_is_altered_even_when_signed(
    app: Flask, tmp_path: Path, genuine: bytes
):
    """Another page with the genuine attachments, then signed with a PAdES certificate:
    the forger's own (not ours), and the installation's own (the page check alone)."""
    page = FPDF(orientation="L", format="A4")
    page.add_page()
    page.set_font("helvetica", size=24)
    page.cell(text=f"Attestato di formazione - {FORGED} - {TITLE}")
    payload, signature = attachments(genuine)
    other = replace_attachments(bytes(page.output()), payload, signature)
    own_key = pades.new_private_key()
    own = pades.sealer(own_key, pades.self_issued_certificate(own_key, "Falsario", clock.now()))
    assert_altered(app, tmp_path, pades.sign(other, own), Page.BROKEN)
    with app.test_request_context():
        ours = documents.sealer()
    assert_altered(app, tmp_path, pades.sign(other, ours), Page.TEXT)


def test_revoked_certificate_still_shows_revoked(app: Flask, tmp_path: Path, make_user, complete):
    documents_ready(app)
    cert = complete(make_user(name=HOLDER))
    data = pdf_bytes(app, cert)
    issuing.revoke(db.session, cert, "Attestato emesso per errore", actor=None)
    db.session.commit()
    assert 'data-outcome="revoked"' in upload(app, data)
    altered = upload(app, overlay(data))  # altered and revoked: both said
    assert 'data-outcome="altered"' in altered and "revocato" in altered
