"""The certificate as a PDF: fpdf2 draws it and attaches the signed payload in one pass.

A certificate is a document whose wording is fixed per language, so its text
lives here (Italian, and English for holders who chose English) rather than
in the UI catalogue. Everything printed comes from the stored certificate, the
same data that was signed.

Drawn for speed (ZIP exports draw hundreds): the font is parsed once per
process (``lms.fonts``), lines that fit are set with ``cell`` (``multi_cell``
measures every glyph again for each break it considers), the QR code is
vector rectangles rather than a PNG, and the attachments are written by fpdf2
itself rather than by reading the whole document back with pypdf.
Verification reads attachments with pypdf, whichever wrote them: the
Ed25519 signature covers the payload bytes only; the PAdES signature added last
(``certificates.pades``) covers the whole file, page included.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import ViewerPreferences
from fpdf.enums import TextMode

from certificates import accreditation, codes, pades, signing
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
        "tracked": "Tempo di studio registrato: {hours} h {minutes} min",
        "accreditation": "Accreditamento {body} · Provider: {provider} · Evento: {event} · "
        "Crediti: {credits}",
        "accreditation.outside": "Accreditamento {body}, evento {event}: il periodo di "
        "accreditamento{period} non comprende la data di completamento; nessun credito.",
        "period.both": " (dal {start} al {end})",
        "period.from": " (dal {start})",
        "period.until": " (fino al {end})",
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
        "tracked": "Study time tracked: {hours} h {minutes} min",
        "accreditation": "Accreditation {body} · Provider: {provider} · Event: {event} · "
        "Credits: {credits}",
        "accreditation.outside": "Accreditation {body}, event {event}: the accreditation "
        "period{period} did not cover the completion date; no credits.",
        "period.both": " ({start} to {end})",
        "period.from": " (from {start})",
        "period.until": " (until {end})",
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
    # The installation's PDF signature (``certificates.pades``); None: not signed as a PDF.
    sealer: pades.Sealer | None = None


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def local_date(moment: dt.datetime, locale: str) -> str:
    return format_date(moment.astimezone(TIMEZONE).date(), format="long", locale=locale)


def format_hours(hours: float | Decimal, locale: str) -> str:
    return format_decimal(hours, format="#,##0.##", locale=locale)


def accreditation_text(cert: Certificate, locale: str) -> str | None:
    """The accreditation line: codes and credits, or why the credits were not earned."""
    found = accreditation.read(cert.accreditation)
    if found is None:
        return None
    t = TEXT[locale]
    if found.covered:
        return t["accreditation"].format(
            body=_nfc(found.body),
            provider=_nfc(found.provider),
            event=_nfc(found.event),
            credits=format_hours(found.credits, locale),
        )
    start, end = found.valid_from, found.valid_until
    day = {"format": "long", "locale": locale}
    if start and end:
        period = t["period.both"].format(
            start=format_date(start, **day), end=format_date(end, **day)
        )
    elif start:
        period = t["period.from"].format(start=format_date(start, **day))
    elif end:
        period = t["period.until"].format(end=format_date(end, **day))
    else:
        period = ""
    return t["accreditation.outside"].format(
        body=_nfc(found.body), event=_nfc(found.event), period=period
    )


# -- QR code ---------------------------------------------------------------------------
# segno picks the mask by trying all eight in pure Python, slowly. Here the
# symbol is encoded once with mask 0; every other mask differs from it by a
# pattern that depends only on version and error level (data modules flipped,
# other format bits), taken once from segno and kept. The eight candidates are
# scored with the ISO/IEC 18004 penalty rules on whole rows at a time.

_LIGHT_RUN = re.compile(rb"\x00\x00\x00\x00\x00+")  # spelled out: a literal prefix is
_DARK_RUN5 = re.compile(rb"\x01\x01\x01\x01\x01+")  # searched faster than {5,}
_FINDER = b"\x01\x00\x01\x01\x01\x00\x01"
_LIGHT4 = b"\x00" * 4
_DARK_RUN = re.compile(rb"\x01+")
_mask_deltas: dict[tuple[int, str], list[int]] = {}


def _flat(symbol: segno.QRCode) -> int:
    return int.from_bytes(b"".join(symbol.matrix), "big")


def _deltas(version: int, error: str) -> list[int]:
    """Per mask: the modules that differ from the mask-0 symbol (data and format bits)."""
    found = _mask_deltas.get((version, error))
    if found is None:
        symbols = [
            segno.make_qr("0", error=error, version=version, mask=m, boost_error=False)
            for m in range(8)
        ]
        found = [_flat(s) ^ _flat(symbols[0]) for s in symbols]
        _mask_deltas[(version, error)] = found
    return found


def penalty(flat: bytes, size: int) -> int:
    """ISO/IEC 18004 mask penalty (N1 runs, N2 blocks, N3 finder-like, N4 balance).

    Rows and columns are scanned as one byte string each (a 2 between lines
    stops runs); a finder-like pattern counts when four light modules, or the
    edge, precede or follow it.
    """
    lines = [flat[i : i + size] for i in range(0, len(flat), size)]
    lines += [flat[j::size] for j in range(size)]
    joined = b"\x02".join(lines)
    runs = _LIGHT_RUN.findall(joined) + _DARK_RUN5.findall(joined)
    score = sum(map(len, runs)) - 2 * len(runs)
    padded = _LIGHT4 + (_LIGHT4 + b"\x02" + _LIGHT4).join(lines) + _LIGHT4
    at = padded.find(_FINDER)
    while at != -1:
        if padded[at - 4 : at] == _LIGHT4 or padded[at + 7 : at + 11] == _LIGHT4:
            score += 40
            at = padded.find(_FINDER, at + 7)
        else:
            at = padded.find(_FINDER, at + 4)
    # 2x2 blocks: module p equal to p + 1, p + size and p + size + 1 (zero byte in "same")
    span = size * (size - 1) - 1
    a = int.from_bytes(flat[:span], "big")
    same = (a ^ int.from_bytes(flat[1 : span + 1], "big")) | (
        a ^ int.from_bytes(flat[size : size + span], "big")
    )
    same = (same | (a ^ int.from_bytes(flat[size + 1 : size + 1 + span], "big"))).to_bytes(
        span, "big"
    )
    score += 3 * (same.count(0) - same[size - 1 :: size].count(0))  # not across row ends
    dark = flat.count(1) * 100 / size**2
    return score + 10 * int(abs(dark - 50) / 5)


def qr_modules(text: str, mask: int | None = None) -> tuple[bytes, int]:
    """The QR code (error level M or better): modules row by row (1 = dark), and its size."""
    symbol = segno.make_qr(text, error="m", mask=0)
    size = len(symbol.matrix)
    base = _flat(symbol)
    candidates = [
        (base ^ delta).to_bytes(size * size, "big")
        for delta in _deltas(symbol.version, symbol.error)
    ]
    if mask is not None:
        return candidates[mask], size
    return min(candidates, key=lambda flat: penalty(flat, size)), size


def _qr(pdf: PDF, url: str, x: float, y: float, size: float, alt_text: str) -> None:
    """The QR code as filled rectangles (one per run of dark modules), 2 modules of margin."""
    modules, count = qr_modules(url)
    module = size / (count + 4) * pdf.k
    runs = " ".join(
        f"{m.start() % count + 2} {m.start() // count + 2} {m.end() - m.start()} 1 re"
        for row in range(count)
        for m in _DARK_RUN.finditer(modules, row * count, (row + 1) * count)
    )
    # module units, y downwards, origin at the symbol's top left corner
    matrix = f"{module:.4f} 0 0 {-module:.4f} {x * pdf.k:.2f} {(pdf.h - y) * pdf.k:.2f} cm"
    with pdf._marked_sequence(title=url, alt_text=alt_text):  # tagged as a Figure
        pdf._out(f"q 0 g {matrix} {runs} f Q")


# -- the page --------------------------------------------------------------------------


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
        text = _nfc(text)
        self.set_font("certificate", size=size)
        self.set_text_color(*color)
        self.set_draw_color(*color)
        self.text_mode = TextMode.FILL_STROKE if bold else TextMode.FILL
        height = size * 0.45
        width = self.current_font.get_text_width(text, self.font_size_pt, None)[1] / self.k
        room = self.w - self.r_margin - self.x
        if width <= room - 2 * self.c_margin:
            # One line: placed where cell(0, height, align=...) would put it,
            # by text(), which costs a sixth of cell().
            dx = (room - width) / 2 if align == "C" else self.c_margin
            self.text(self.x + dx, self.y + 0.5 * height + 0.3 * self.font_size, text)
            self.set_y(self.y + height)
        else:
            self.multi_cell(0, height, text, align=align, new_x="LMARGIN", new_y="NEXT")
        self.text_mode = TextMode.FILL
        self.ln(gap)


def _frame(pdf: _Document) -> None:
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, 297 - 16, 210 - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, 297 - 22, 210 - 22)
    pdf.set_line_width(0.25)


def _page(cert: Certificate, options: RenderOptions) -> _Document:
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

    facts = []
    if cert.hours_printed:
        unit = t["hour_unit"] if cert.hours == 1 else t["hours_unit"]
        facts.append(t["hours"].format(hours=format_hours(cert.hours, locale), unit=unit))
    accredited = accreditation_text(cert, locale)
    if cert.credits and accredited is None:  # an accreditation states its own credits
        facts.append(t["credits"].format(credits=_nfc(cert.credits)))
    if cert.tracked_seconds is not None:
        hours, minutes = accreditation.hours_minutes(cert.tracked_seconds)
        facts.append(t["tracked"].format(hours=hours, minutes=minutes))
    facts.append(t["completed"].format(date=local_date(cert.completed_at, locale)))
    pdf.write_line("  ·  ".join(facts), 11.5, gap=1.5)
    if accredited is not None:
        pdf.write_line(accredited, 9.5, color=MUTED, gap=1.5)
    validity = [t["issued"].format(date=local_date(cert.issued_at, locale))]
    validity.append(
        t["expires"].format(date=local_date(cert.expires_at, locale))
        if cert.expires_at
        else t["no_expiry"]
    )
    pdf.write_line("  ·  ".join(validity), 11.5, bold=bool(cert.expires_at), gap=2)
    pdf.write_line(t["issuer"].format(issuer=_nfc(cert.issuer)), 9, color=MUTED)

    qr_size = 34
    qr_x, qr_y = 297 - 20 - qr_size, 210 - 18 - qr_size
    _qr(pdf, options.verify_url, qr_x, qr_y, qr_size, t["qr"])
    pdf.set_right_margin(20 + qr_size + 6)
    pdf.set_y(qr_y + 2)
    pdf.write_line(t["serial"].format(serial=cert.serial), 10, align="L", gap=0.8)
    grouped = codes.grouped(cert.code)
    pdf.write_line(t["code"].format(code=grouped), 11, bold=True, align="L", gap=0.8)
    pdf.write_line(t["verify"].format(url=options.verify_url), 7.5, color=MUTED, align="L")
    pdf.write_line(t["signed"].format(key_id=cert.key_id), 7.5, color=MUTED, align="L")
    return pdf


def draw(cert: Certificate, options: RenderOptions) -> bytes:
    """The certificate page, without attachments."""
    return bytes(_page(cert, options).output())


def render(cert: Certificate, options: RenderOptions) -> bytes:
    """The downloadable certificate: the page plus the stored signed payload as attachments,
    the whole document then signed as a PDF (PAdES) when ``options.sealer`` is given.

    ``certificate.json`` holds exactly the signed bytes and ``certificate.sig``
    the signature document (see ``signing``); PDFs from before this was written
    by fpdf2 carry the same two files, attached by pypdf. The PAdES signature is an
    incremental update: the attachments stay byte for byte where fpdf2 put them.
    """
    pdf = _page(cert, options)
    pdf.embed_file(
        bytes=cert.payload.encode("utf-8"),
        basename=signing.PAYLOAD_NAME,
        mime_type="application/json",
    )
    pdf.embed_file(
        bytes=signing.signature_document(cert.key_id, cert.signature),
        basename=signing.SIGNATURE_NAME,
        mime_type="application/json",
    )
    data = bytes(pdf.output())
    return pades.sign(data, options.sealer) if options.sealer is not None else data


def filename(cert: Certificate) -> str:
    """ASCII file name for downloads and ZIP entries."""
    ascii_name = unicodedata.normalize("NFKD", cert.holder_name).encode("ascii", "ignore")
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_name.decode()).split())
    return f"{cert.serial}_{slug or 'attestato'}.pdf"
