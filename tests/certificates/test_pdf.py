"""The PDF: text, Unicode names, embedded font, metadata, language, QR, attachments."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from flask import Flask
from fontTools.ttLib import TTFont
from pypdf import PdfReader, PdfWriter

from certificates import codes, fonts, keys, signing
from certificates.documents import render_options
from certificates.pdf import TEXT, draw, filename, qr_modules
from certificates.verification import Outcome, check_pdf
from lms import db
from tests.certificates.conftest import pdf_bytes, pdf_text

NAMES = [
    "Łucja Żółć",
    "Łukasz Wójcik",
    "Şükrü Öztürk",
    "Nguyễn Thị Minh",
    "Ahmed El-Sayed",
    "Zoë D'Angelo",
]


def verify_url(cert) -> str:
    return f"http://lms.test/certificates/verify/{codes.grouped(cert.code)}"


def figures(element) -> list[dict]:
    """The /Figure elements of a structure tree."""
    element = element.get_object()
    if isinstance(element, list):
        return [f for child in element for f in figures(child)]
    if not hasattr(element, "get"):  # a marked-content id
        return []
    found = [element] if element.get("/S") == "/Figure" else []
    return found + (figures(element["/K"]) if "/K" in element else [])


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
    assert verify_url(cert) in text


@pytest.mark.parametrize("name", NAMES)
def test_unicode_names_render_with_an_embedded_font(app: Flask, make_user, complete, name):
    cert = complete(make_user(name=name))
    reader = PdfReader(io.BytesIO(pdf_bytes(app, cert)))
    text = unicodedata.normalize("NFC", reader.pages[0].extract_text())
    assert name in text
    descriptors = embedded_fonts(reader)
    assert descriptors and all("/FontFile2" in d for d in descriptors)  # embedded TrueType
    assert fonts.covers(fonts.certificate_font(app.instance_path), name)  # no .notdef boxes
    # the embedded subset itself has an outline for every letter of the name
    (descriptor,) = descriptors
    program = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
    cmap, glyf = program.getBestCmap(), program["glyf"]
    for letter in unicodedata.normalize("NFC", name).replace(" ", ""):
        assert ord(letter) in cmap, letter
        assert glyf[cmap[ord(letter)]].numberOfContours != 0, letter


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
    assert [f["/Alt"] for f in figures(root["/StructTreeRoot"])] == [TEXT["it"]["qr"]]
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # A4 landscape
    assert round(float(page.mediabox.width) / 72 * 25.4) == 297
    assert len(page.images) == 0  # the QR code is drawn as vector rectangles


def test_qr_code_drawn_is_the_verification_url(app: Flask, make_user, complete):
    cert = complete(make_user(name="Maria Rossi"))
    page = PdfReader(io.BytesIO(pdf_bytes(app, cert))).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    (drawing,) = re.findall(r"q 0 g [-\d. ]+ cm (.*?) f Q", content)
    drawn = set()
    for x, y, width in re.findall(r"(\d+) (\d+) (\d+) 1 re", drawing):
        drawn |= {(int(y) - 2, int(x) - 2 + i) for i in range(int(width))}
    modules, size = qr_modules(verify_url(cert))
    dark = {(i // size, i % size) for i, module in enumerate(modules) if module}
    assert drawn == dark


@pytest.mark.parametrize("length", [10, 60, 150, 400])
def test_qr_modules_match_segno_for_every_mask(length: int):
    segno = pytest.importorskip("segno")
    encoder = pytest.importorskip("segno.encoder")
    url = "https://lms.test/" + "Ab9-/"[:5] * (length // 5)
    chosen, size = qr_modules(url)
    penalties = []
    for mask in range(8):
        modules, size = qr_modules(url, mask=mask)
        assert modules == b"".join(segno.make_qr(url, error="m", mask=mask).matrix)
        rows = [bytearray(modules[i : i + size]) for i in range(0, size * size, size)]
        penalties.append(sum(encoder.mask_scores(rows, size, size)))
    assert chosen == qr_modules(url, mask=penalties.index(min(penalties)))[0]


def test_certificates_attached_by_pypdf_still_verify(app: Flask, make_user, complete):
    """PDFs issued before attachments were written by fpdf2: pypdf added them to the page."""
    cert = complete(make_user(name="Şükrü Öztürk"))
    with app.test_request_context():
        page = draw(cert, render_options(cert))
    writer = PdfWriter(clone_from=io.BytesIO(page))
    writer.add_attachment(signing.PAYLOAD_NAME, cert.payload.encode("utf-8"))
    writer.add_attachment(
        signing.SIGNATURE_NAME, signing.signature_document(cert.key_id, cert.signature)
    )
    legacy = io.BytesIO()
    writer.write(legacy)
    public = keys.public_keys(db.session)
    for data in (legacy.getvalue(), pdf_bytes(app, cert)):
        check = check_pdf(data, public)
        assert check.outcome is Outcome.VALID and check.payload["serial"] == cert.serial
    # with the document check: the old file has no PDF signature (issued before the
    # installation's first PAdES certificate: unconfirmed), the new one is signed
    trust = keys.pades_trust(db.session)
    assert check_pdf(legacy.getvalue(), public, pades_trust=trust).outcome is Outcome.UNCONFIRMED
    assert check_pdf(pdf_bytes(app, cert), public, pades_trust=trust).outcome is Outcome.VALID


def test_attachments_and_download_name(app: Flask, make_user, complete):
    cert = complete(make_user(name="Łucja Żółć"))
    attachments = PdfReader(io.BytesIO(pdf_bytes(app, cert))).attachments
    assert attachments["certificate.json"] == [cert.payload.encode()]
    assert b'"key_id"' in attachments["certificate.sig"][0]
    assert filename(cert) == f"{cert.serial}_ucja-Zoc.pdf"
