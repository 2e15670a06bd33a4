"""The PDF: text, Unicode names, embedded font, metadata, language, QR, attachments."""

from __future__ import annotations

import io
import unicodedata

import pytest
from flask import Flask
from pypdf import PdfReader

from certificates import codes, fonts
from certificates.pdf import filename
from lms import db
from tests.certificates.conftest import pdf_bytes, pdf_text

NAMES = ["Łucja Żółć", "Nguyễn Thị Minh", "Ahmed El-Sayed", "Zoë D'Angelo"]


def embedded_fonts(reader: PdfReader) -> list[dict]:
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                found.append(descendant.get_object()["/FontDescriptor"].get_object())
    return found


def test_pdf_contains_holder_title_and_grouped_code(app: Flask, make_user, complete):
    cert = complete(make_user(name="Maria Rossi"), title="Riconoscere la violenza")
    data = pdf_bytes(app, cert)
    text = pdf_text(data)
    assert "Maria Rossi" in text and "Riconoscere la violenza" in text
    assert codes.grouped(cert.code) in text and cert.serial in text
    assert "Comune di Milano · Rete antiviolenza di Milano" in text
    assert "Attestato di formazione".upper() in text and "Durata: 8 ore" in text
    assert f"http://lms.test/certificates/verify/{codes.grouped(cert.code)}" in text


@pytest.mark.parametrize("name", NAMES)
def test_unicode_names_render_with_an_embedded_font(app: Flask, make_user, complete, name):
    cert = complete(make_user(name=name))
    reader = PdfReader(io.BytesIO(pdf_bytes(app, cert)))
    text = unicodedata.normalize("NFC", reader.pages[0].extract_text())
    assert name in text
    descriptors = embedded_fonts(reader)
    assert descriptors and all("/FontFile2" in d for d in descriptors)  # embedded TrueType
    assert fonts.covers(fonts.certificate_font(app.instance_path), name)  # no .notdef boxes


def test_english_for_english_holders(app: Flask, make_user, complete):
    user = make_user(name="Ahmed El-Sayed")
    user.locale = "en"
    db.session.commit()
    cert = complete(
        user, kind="session", key="session:9", credits="4 CFP", hours=4, version_label="12/03/2026"
    )
    text = pdf_text(pdf_bytes(app, cert))
    assert "Session of 12/03/2026" in text
    assert "CERTIFICATE OF ATTENDANCE" in text and "This is to certify that" in text
    assert "Duration: 4 hours" in text and "Training credits: 4 CFP" in text
    assert "Si attesta" not in text


def test_metadata_language_and_accessibility(app: Flask, make_user, complete):
    cert = complete(make_user(name="Zoë D'Angelo"))
    reader = PdfReader(io.BytesIO(pdf_bytes(app, cert)))
    meta = reader.metadata
    assert meta is not None
    assert "Zoë D'Angelo" in meta.title and cert.title in meta.title
    assert meta.author and "Comune di Milano" in meta.author
    assert cert.serial in meta.subject and "attestato" in meta["/Keywords"]
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "it"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # QR alt text
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # A4 landscape
    assert round(float(page.mediabox.width) / 72 * 25.4) == 297
    assert len(page.images) == 1  # the QR code


def test_attachments_and_download_name(app: Flask, make_user, complete):
    cert = complete(make_user(name="Łucja Żółć"))
    attachments = PdfReader(io.BytesIO(pdf_bytes(app, cert))).attachments
    assert attachments["certificate.json"] == [cert.payload.encode()]
    assert b'"key_id"' in attachments["certificate.sig"][0]
    assert filename(cert) == f"{cert.serial}_ucja-Zoc.pdf"
