"""The certificate as a PDF: fpdf2 draws it, pypdf attaches the signed payload.

A certificate is a document whose wording is fixed per language, so its text
lives here (Italian, and English for holders who chose English) rather than
in the UI catalogue. Everything printed comes from the stored certificate, the
same data that was signed.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import ViewerPreferences
from fpdf.enums import TextMode
from pypdf import PdfWriter

from certificates import codes, signing
from certificates.models import Certificate
from lms.fonts import PDF

TIMEZONE = ZoneInfo("Europe/Rome")
HEADING = "Comune di Milano · Rete antiviolenza di Milano"
ACCENT = (106, 27, 77)
MUTED = (74, 74, 85)
INK = (27, 27, 31)

TEXT: dict[str, dict[str, str]] = {
    "it": {
        "protocol": "Protocollo Milano per la prevenzione e il contrasto alla violenza "
        "maschile contro le donne",
        "title.course": "Attestato di formazione",
        "title.commitment": "Attestato di formazione",
        "title.session": "Attestato di partecipazione",
        "certify": "Si attesta che",
        "lead.course": "ha completato il corso",
        "lead.commitment": "ha completato il percorso formativo",
        "lead.session": "ha partecipato all'incontro formativo",
        "version": "Versione: {version}",
        "version.session": "Incontro del {version}",
        "hours": "Durata: {hours} {unit}",
        "hour_unit": "ora",
        "hours_unit": "ore",
        "credits": "Crediti formativi: {credits}",
        "completed": "Completato il {date}",
        "issued": "Rilasciato il {date}",
        "expires": "Valido fino al {date}",
        "no_expiry": "Senza scadenza",
        "issuer": "Ente che rilascia: {issuer}",
        "serial": "Numero: {serial}",
        "code": "Codice di verifica: {code}",
        "verify": "Verifica online: {url}",
        "signed": "Firmato digitalmente (Ed25519, chiave {key_id}): verificabile anche "
        "senza rete con «lms certificates verify».",
        "qr": "Codice QR con l'indirizzo di verifica dell'attestato",
        "keywords": "attestato, formazione, Rete antiviolenza di Milano, Protocollo Milano",
    },
    "en": {
        "protocol": "Milan Protocol for preventing and combating male violence against women",
        "title.course": "Certificate of training",
        "title.commitment": "Certificate of training",
        "title.session": "Certificate of attendance",
        "certify": "This is to certify that",
        "lead.course": "has completed the course",
        "lead.commitment": "has completed the training programme",
        "lead.session": "attended the training session",
        "version": "Version: {version}",
        "version.session": "Session of {version}",
        "hours": "Duration: {hours} {unit}",
        "hour_unit": "hour",
        "hours_unit": "hours",
        "credits": "Training credits: {credits}",
        "completed": "Completed on {date}",
        "issued": "Issued on {date}",
        "expires": "Valid until {date}",
        "no_expiry": "No expiry date",
        "issuer": "Issued by: {issuer}",
        "serial": "Number: {serial}",
        "code": "Verification code: {code}",
        "verify": "Verify online: {url}",
        "signed": "Digitally signed (Ed25519, key {key_id}): can be checked offline "
        "with “lms certificates verify”.",
        "qr": "QR code with the certificate's verification address",
        "keywords": "certificate, training, Milan anti-violence network, Milan Protocol",
    },
}


@dataclass(frozen=True)
class RenderOptions:
    verify_url: str
    locale: str
    font_path: Path


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def local_date(moment: dt.datetime, locale: str) -> str:
    return format_date(moment.astimezone(TIMEZONE).date(), format="long", locale=locale)


def format_hours(hours: float, locale: str) -> str:
    return format_decimal(hours, format="#,##0.##", locale=locale)


class _Document(PDF):
    def __init__(self, font_path: Path) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(20, 18, 20)
        self.add_shared_font("certificate", font_path)
        self.set_line_width(0.25)

    def write_line(
        self,
        text: str,
        size: float,
        *,
        color: tuple[int, int, int] = INK,
        bold: bool = False,
        gap: float = 2,
        align: str = "C",
    ) -> None:
        """A centred paragraph; "bold" strokes the glyph outlines (one weight only)."""
        self.set_font("certificate", size=size)
        self.set_text_color(*color)
        self.set_draw_color(*color)
        self.text_mode = TextMode.FILL_STROKE if bold else TextMode.FILL
        self.multi_cell(0, size * 0.45, _nfc(text), align=align, new_x="LMARGIN", new_y="NEXT")
        self.text_mode = TextMode.FILL
        self.ln(gap)


def _frame(pdf: _Document) -> None:
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, 297 - 16, 210 - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, 297 - 22, 210 - 22)
    pdf.set_line_width(0.25)


def _qr_png(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def draw(cert: Certificate, options: RenderOptions) -> bytes:
    """The certificate page, without attachments."""
    locale = "en" if options.locale == "en" else "it"
    t = TEXT[locale]
    kind = cert.kind if f"title.{cert.kind}" in t else "course"
    pdf = _Document(options.font_path)
    doc_title = f"{t[f'title.{kind}']} – {_nfc(cert.title)} – {_nfc(cert.holder_name)}"
    pdf.set_lang(locale)
    pdf.set_title(doc_title)
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_author(_nfc(cert.issuer))
    pdf.set_subject(f"{_nfc(cert.title)} ({_nfc(cert.version_label)}) – {cert.serial}")
    pdf.set_keywords(f"{t['keywords']}, {cert.serial}")
    pdf.set_creator(HEADING)
    pdf.set_creation_date(cert.issued_at)
    pdf.add_page()
    _frame(pdf)

    pdf.set_y(21)
    pdf.write_line(HEADING, 16, color=ACCENT, bold=True, gap=1.5)
    pdf.write_line(t["protocol"], 9, color=MUTED, gap=3)
    pdf.set_draw_color(*ACCENT)
    pdf.line(297 / 2 - 30, pdf.get_y(), 297 / 2 + 30, pdf.get_y())
    pdf.ln(7)
    pdf.write_line(t[f"title.{kind}"].upper(), 26, color=ACCENT, bold=True, gap=7)
    pdf.write_line(t["certify"], 12, color=MUTED, gap=2)
    pdf.write_line(cert.holder_name, 28, bold=True, gap=1.5)
    if cert.organisation_name:
        pdf.write_line(cert.organisation_name, 11, color=MUTED, gap=4)
    else:
        pdf.ln(3)
    pdf.write_line(t[f"lead.{kind}"], 12, color=MUTED, gap=2)
    pdf.write_line(cert.title, 19, color=ACCENT, bold=True, gap=1.5)
    version_text = t["version.session"] if kind == "session" else t["version"]
    pdf.write_line(version_text.format(version=_nfc(cert.version_label)), 10, color=MUTED, gap=5)

    unit = t["hour_unit"] if cert.hours == 1 else t["hours_unit"]
    facts = [t["hours"].format(hours=format_hours(cert.hours, locale), unit=unit)]
    if cert.credits:
        facts.append(t["credits"].format(credits=_nfc(cert.credits)))
    facts.append(t["completed"].format(date=local_date(cert.completed_at, locale)))
    pdf.write_line("  ·  ".join(facts), 11.5, gap=1.5)
    validity = [t["issued"].format(date=local_date(cert.issued_at, locale))]
    validity.append(
        t["expires"].format(date=local_date(cert.expires_at, locale))
        if cert.expires_at
        else t["no_expiry"]
    )
    pdf.write_line("  ·  ".join(validity), 11.5, bold=bool(cert.expires_at), gap=2)
    pdf.write_line(t["issuer"].format(issuer=_nfc(cert.issuer)), 9, color=MUTED)

    qr_size = 34
    pdf.image(
        _qr_png(options.verify_url),
        x=297 - 20 - qr_size,
        y=210 - 18 - qr_size,
        w=qr_size,
        h=qr_size,
        alt_text=t["qr"],
        title=options.verify_url,
    )
    pdf.set_right_margin(20 + qr_size + 6)
    pdf.set_y(210 - 18 - qr_size + 2)
    pdf.write_line(t["serial"].format(serial=cert.serial), 10, align="L", gap=0.8)
    grouped = codes.grouped(cert.code)
    pdf.write_line(t["code"].format(code=grouped), 11, bold=True, align="L", gap=0.8)
    pdf.write_line(t["verify"].format(url=options.verify_url), 7.5, color=MUTED, align="L")
    pdf.write_line(t["signed"].format(key_id=cert.key_id), 7.5, color=MUTED, align="L")
    return bytes(pdf.output())


def attach_signature(pdf_bytes: bytes, payload: bytes, signature_doc: bytes) -> bytes:
    """Embed the payload and its signature as PDF attachments (pypdf)."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes))
    writer.add_attachment(signing.PAYLOAD_NAME, payload)
    writer.add_attachment(signing.SIGNATURE_NAME, signature_doc)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render(cert: Certificate, options: RenderOptions) -> bytes:
    """The downloadable certificate: drawn page plus the stored signed payload."""
    return attach_signature(
        draw(cert, options),
        cert.payload.encode("utf-8"),
        signing.signature_document(cert.key_id, cert.signature),
    )


def filename(cert: Certificate) -> str:
    """ASCII file name for downloads and ZIP entries."""
    ascii_name = unicodedata.normalize("NFKD", cert.holder_name).encode("ascii", "ignore")
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_name.decode()).split())
    return f"{cert.serial}_{slug or 'attestato'}.pdf"
