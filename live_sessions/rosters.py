"""The printable sign-in sheet (PDF) and the roster's CSV exports."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from live_sessions.attendance import hours_attended
from live_sessions.models import Attendance, LiveSession, Registration
from live_sessions.scheduling import local
from lms import fonts
from lms.exports import csv_writer, safe_cell

BLANK_ROWS = 4  # for people who come without having registered
INK = (33, 37, 41)
MUTED = (90, 98, 106)


@dataclass(frozen=True)
class RosterRow:
    registration: Registration
    organisation: str
    attendance: Attendance | None

    @property
    def waiting(self) -> bool:
        return self.registration.status == "waitlisted"


def font_path(instance_path: str) -> Path:
    """The platform's Noto Sans, the static copy prepared in the instance folder."""
    path = fonts.prepared_font(instance_path)
    if path is None:
        raise RuntimeError(f"the {fonts.FONT_PACKAGE} package is not installed")
    return path


def _nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def when(live: LiveSession, locale: str = "it") -> str:
    start = local(live.starts_at, live.time_zone)
    end = local(live.ends_at, live.time_zone)
    day = format_datetime(start, "EEEE d MMMM y, HH:mm", locale=locale)
    return f"{day}–{end:%H:%M} ({live.time_zone})"


def sign_in_pdf(
    live: LiveSession, rows: list[RosterRow], *, font: Path, heading: str, locale: str = "it"
) -> bytes:
    """An A4 landscape sheet: one line per confirmed person, with room to sign in and out."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("noto", fname=font)
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_title(_nfc(_("Foglio firme – %(title)s", title=live.title)))
    pdf.set_lang(locale)
    pdf.set_creator(heading)
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_font("noto", size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, _nfc(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font("noto", size=15)
    pdf.multi_cell(
        0, 7, _nfc(_("Foglio firme – %(title)s", title=live.title)), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("noto", size=10)
    facts = [when(live, locale), live.place or live.online_url or ""]
    trainers = ", ".join(t.full_name for t in live.trainers)
    facts.append(_("Formatrici e formatori: %(names)s", names=trainers))
    hours = format_decimal(Decimal(live.hours).normalize(), locale=locale)
    facts.append(_("Ore riconosciute: %(hours)s", hours=hours))
    if live.credits:
        facts.append(_("Crediti formativi: %(credits)s", credits=live.credits))
    for fact in facts:
        pdf.multi_cell(0, 5, _nfc(fact), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (10, 70, 80, 58, 51)
    headers = (
        _("N."),
        _("Cognome e nome"),
        _("Organizzazione"),
        _("Firma ingresso (ora)"),
        _("Firma uscita (ora)"),
    )
    confirmed = [r for r in rows if not r.waiting]
    pdf.set_font("noto", size=9)
    with pdf.table(
        col_widths=widths,
        line_height=9,
        text_align="LEFT",
        first_row_as_headings=True,
        headings_style=FontFace(emphasis=None, fill_color=(232, 236, 239)),
    ) as table:
        table.row(headers)
        for number, row in enumerate(confirmed, start=1):
            table.row(
                (str(number), _nfc(row.registration.user.full_name), _nfc(row.organisation), "", "")
            )
        for number in range(len(confirmed) + 1, len(confirmed) + 1 + BLANK_ROWS):
            table.row((str(number), "", "", "", ""))
    pdf.ln(4)
    pdf.set_font("noto", size=9)
    pdf.multi_cell(0, 5, _nfc(_("Firma della formatrice / del formatore:") + " " + "_" * 30))
    return bytes(pdf.output())


STATUS_LABELS_CSV = {
    "confirmed": "confermata",
    "waitlisted": "in lista d'attesa",
    "present": "presente",
    "partial": "parziale",
    "absent": "assente",
}


def roster_csv(live: LiveSession, rows: list[RosterRow]) -> str:
    """Registrations and attendance, one line per person (spreadsheet-safe)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(
        [
            "incontro",
            "data",
            "nome",
            "email",
            "organizzazione",
            "iscrizione",
            "presenza",
            "minuti",
            "ore",
        ]
    )
    day = local(live.starts_at, live.time_zone).strftime("%Y-%m-%d %H:%M")
    for row in rows:
        attendance = row.attendance
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    live.title,
                    day,
                    row.registration.user.full_name,
                    row.registration.user.email,
                    row.organisation,
                    STATUS_LABELS_CSV.get(row.registration.status, row.registration.status),
                    STATUS_LABELS_CSV.get(attendance.status, "") if attendance else "",
                    attendance.minutes if attendance and attendance.minutes else "",
                    str(hours_attended(live, attendance)),
                )
            ]
        )
    return buffer.getvalue()


def sheet_template_csv(rows: list[RosterRow]) -> str:
    """The import format, pre-filled with the confirmed people (presenza left empty)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["email", "nome", "presenza", "minuti"])
    for row in rows:
        if not row.waiting:
            user = row.registration.user
            writer.writerow([safe_cell(user.email), safe_cell(user.full_name), "", ""])
    return buffer.getvalue()
