"""PDF documents: the one-page summary of an organisation and the network table.

Text is set in the platform's Noto Sans (``lms.fonts``: the
``fontpkg-noto-sans`` dependency, never downloaded at run time, prepared once
in the instance folder and parsed once per process). Bold is drawn by stroking
the glyphs (no second font to prepare). Without the package, the PDF falls
back to the core Helvetica font and text is transliterated to Latin-1.

The summary is aggregated: counts, coverage and trend, never a name, so it can
be shown at the network's operational meetings (Art. 6).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from flask_babel import gettext as _
from fpdf.enums import TextMode
from fpdf.fonts import FontFace

from commitments.reporting.coverage import CommitmentReport
from commitments.reporting.labels import local_day, percent, status_label
from commitments.reporting.trend import TrendPoint
from commitments.rules.status import STATUS_ORDER, Status
from lms.fonts import PDF, prepared_font

FONT_FAMILY = "NotoSans"
INK = (27, 27, 31)
MUTED = (90, 90, 100)
ACCENT = (106, 27, 77)
MAX_BLOCKS = 6


class Document(PDF):
    """FPDF with the platform font, fake bold and a footer."""

    def __init__(self, instance_path: str | Path, orientation: str = "P", footer: str = "") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.footer_text = footer
        font = prepared_font(instance_path)
        self.unicode = font is not None
        if font is not None:
            self.add_shared_font(FONT_FAMILY, font)
            self.family = FONT_FAMILY
        else:
            self.family = "Helvetica"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=15)
        self.set_creator("Formazione · Rete antiviolenza di Milano")

    def text_of(self, value: str) -> str:
        if self.unicode:
            return value
        # Core fonts are Latin-1: keep accents, replace the rest (dashes, quotes, ...).
        value = value.replace("–", "-").replace("—", "-").replace("’", "'").replace("…", "...")
        value = value.replace("“", '"').replace("”", '"').replace("€", "EUR")
        folded = unicodedata.normalize("NFKD", value)
        return "".join(
            ch if ord(ch) < 256 else ("" if unicodedata.combining(ch) else "?")
            for ch in unicodedata.normalize("NFC", folded)
        )

    def style(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        if self.unicode:
            self.set_font(self.family, "", size)
            self.text_mode = TextMode.FILL_STROKE if bold else TextMode.FILL
            self.set_line_width(0.18 * size / 10)
            self.set_draw_color(*color)
        else:
            self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    def line_of(self, text: str, height: float = 5, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("align", "L")
        self.multi_cell(0, height, self.text_of(text), new_x="LMARGIN", new_y="NEXT", **kwargs)

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.style(7, color=MUTED)
        self.cell(0, 5, self.text_of(self.footer_text), align="L")
        self.cell(0, 5, f"{self.page_no()}", align="R")


def _expiring_windows(report: CommitmentReport) -> tuple[int, int, int]:
    windows = [0, 0, 0]
    for row in report.rows:
        if row.status is Status.EXPIRING and row.valid_until is not None:
            days = (row.valid_until - report.moment.at).days
            windows[min(2, max(0, days) // 30)] += 1
    return windows[0], windows[1], windows[2]


def _chart(pdf: Document, points: Sequence[TrendPoint], target: int, height: float) -> None:
    x0, y0 = pdf.l_margin + 10, pdf.get_y() + 2
    width = pdf.w - pdf.l_margin - pdf.r_margin - 14
    h = height - 8
    pdf.style(6, color=MUTED)
    pdf.set_draw_color(201, 201, 209)
    pdf.set_line_width(0.1)
    for pct in (0, 50, 100):
        y = y0 + h * (1 - pct / 100)
        pdf.line(x0, y, x0 + width, y)
        pdf.text(pdf.l_margin, y + 1, f"{pct}%")
    ty = y0 + h * (1 - target / 100)
    pdf.set_draw_color(*ACCENT)
    pdf.set_dash_pattern(dash=1.2, gap=1)
    pdf.line(x0, ty, x0 + width, ty)
    pdf.set_dash_pattern()
    step = width / max(1, len(points) - 1)
    coords = [
        (x0 + i * step, y0 + h * (1 - (p.percent or 0) / 100))
        for i, p in enumerate(points)
        if p.in_scope
    ]
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.5)
    if len(coords) > 1:
        pdf.polyline(coords)
    for x, y in coords:
        pdf.circle(x, y, 0.7, style="F")
    pdf.style(6, color=MUTED)
    for i, p in enumerate(points):
        if i in (0, len(points) - 1) or i % 3 == 0:
            pdf.text(x0 + i * step - 4, y0 + h + 4, pdf.text_of(local_day(p.on, "MMM yy")))
    pdf.set_y(y0 + height)


def summary_pdf(
    instance_path: str | Path,
    organisation_name: str,
    reports: list[CommitmentReport],
    trends: dict[int, list[TrendPoint]],
    on: dt.date,
    expiring_days: int,
) -> bytes:
    """One A4 page: per commitment, coverage vs target, counts per status, expiries, trend."""
    pdf = Document(
        instance_path, footer=_("Protocollo Milano · monitoraggio (Art. 6) · dati aggregati")
    )
    pdf.set_auto_page_break(False)
    pdf.set_title(_("Impegni formativi · %(org)s", org=organisation_name))
    pdf.add_page()
    pdf.style(15, bold=True, color=ACCENT)
    pdf.line_of(_("Impegni formativi: situazione al %(date)s", date=local_day(on, "long")), 8)
    pdf.style(11, bold=True)
    pdf.line_of(organisation_name, 6)
    pdf.style(8, color=MUTED)
    pdf.line_of(
        _(
            "Dati aggregati, senza nomi. Una persona è coperta se ha completato i corsi "
            "richiesti e la formazione è ancora valida."
        ),
        4,
    )
    pdf.ln(2)
    shown = reports[:MAX_BLOCKS]
    available = pdf.h - pdf.get_y() - 20 - (6 if len(reports) > MAX_BLOCKS else 0)
    base = 34.0
    chart_height = min(36.0, available / max(1, len(shown)) - base)
    for report in shown:
        _block(pdf, report, trends.get(report.commitment.id, []), expiring_days, chart_height)
    if len(reports) > MAX_BLOCKS:
        pdf.style(8, color=MUTED)
        pdf.line_of(
            _("Altri %(n)d impegni: vedi l'esportazione XLSX.", n=len(reports) - MAX_BLOCKS), 5
        )
    return bytes(pdf.output())


def _block(
    pdf: Document,
    report: CommitmentReport,
    trend: Sequence[TrendPoint],
    expiring_days: int,
    chart_height: float,
) -> None:
    commitment = report.commitment
    pdf.set_draw_color(201, 201, 209)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.style(10.5, bold=True)
    pdf.line_of(commitment.title, 5)
    pdf.style(9)
    if not report.in_scope:
        pdf.line_of(_("Nessuna persona nel perimetro di questo impegno."), 5)
        pdf.ln(2)
        return
    deadline = local_day(commitment.deadline, "long")
    pdf.line_of(
        _(
            "Copertura %(cov)s (%(valid)d su %(total)d persone) · obiettivo %(target)d %% "
            "entro il %(deadline)s · %(state)s",
            cov=percent(report.coverage_percent),
            valid=report.valid,
            total=report.in_scope,
            target=commitment.target_percent,
            deadline=deadline,
            state=_("obiettivo raggiunto")
            if report.target_met
            else _("mancano %(n)d persone", n=report.missing_for_target),
        ),
        5,
    )
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(STATUS_ORDER)
    pdf.style(7, color=MUTED)
    for status in STATUS_ORDER:
        pdf.cell(width, 4, pdf.text_of(status_label(status)), border="B")
    pdf.ln(4)
    pdf.style(9, bold=True)
    for status in STATUS_ORDER:
        pdf.cell(width, 5, str(report.counts[status]))
    pdf.ln(6)
    soon = _expiring_windows(report)
    pdf.style(8.5)
    pdf.line_of(
        _(
            "In scadenza nei prossimi %(days)d giorni: %(n)d (entro 30 giorni: %(a)d; "
            "31-60: %(b)d; oltre: %(c)d).",
            days=expiring_days,
            n=sum(soon),
            a=soon[0],
            b=soon[1],
            c=soon[2],
        ),
        4.5,
    )
    if chart_height >= 16 and trend:
        pdf.style(7, color=MUTED)
        pdf.line_of(_("Andamento della copertura (fine mese) e obiettivo (tratteggio)"), 3.5)
        _chart(pdf, trend, commitment.target_percent, chart_height - 4)
    pdf.ln(2)


def network_pdf(
    instance_path: str | Path,
    groups: list,
    type_label,
    on: dt.date,  # noqa: ANN001
) -> bytes:
    """The network table, landscape, as many pages as needed; counts masked as on screen."""
    pdf = Document(
        instance_path, orientation="L", footer=_("Protocollo Milano · dati aggregati e anonimi")
    )
    pdf.set_title(_("Impegni formativi della Rete"))
    pdf.add_page()
    pdf.style(14, bold=True, color=ACCENT)
    pdf.line_of(
        _("Impegni formativi della Rete: situazione al %(date)s", date=local_day(on, "long")), 8
    )
    pdf.style(8, color=MUTED)
    pdf.line_of(
        _(
            "Numeri inferiori a 5 indicati come «<5»; copertura non indicata (n.d.) se "
            "le persone sono meno di 5."
        ),
        4,
    )
    pdf.ln(2)
    headings = [
        _("Organizzazione"),
        _("Impegno"),
        _("Nel perimetro"),
        _("Formazione valida"),
        _("In scadenza"),
        _("Copertura"),
        _("Obiettivo"),
        _("Raggiunto"),
    ]
    widths = (70, 80, 22, 24, 20, 22, 18, 11)
    for group in groups:
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.style(10, bold=True)
        pdf.line_of(
            f"{type_label(group.organisation_type)} · {group.in_scope} / {group.valid} · "
            f"{group.coverage}",
            6,
        )
        pdf.style(7.5)
        headings_style = FontFace(
            emphasis="" if pdf.unicode else "B", color=MUTED, fill_color=(245, 242, 244)
        )
        with pdf.table(
            col_widths=widths,
            text_align="LEFT",
            line_height=4.2,
            first_row_as_headings=True,
            headings_style=headings_style,
        ) as table:
            row = table.row()
            for heading in headings:
                row.cell(pdf.text_of(heading))
            for item in group.rows:
                row = table.row()
                met = (
                    "n.d." if item.target_met is None else (_("sì") if item.target_met else _("no"))
                )
                for value in (
                    item.organisation_name,
                    item.commitment_title,
                    item.in_scope,
                    item.valid,
                    item.expiring,
                    item.coverage,
                    f"{item.target_percent} %",
                    met,
                ):
                    row.cell(pdf.text_of(str(value)))
        if group.organisations_without_staff:
            pdf.style(7.5, color=MUTED)
            pdf.line_of(
                _(
                    "Organizzazioni senza personale nel perimetro: %(n)d.",
                    n=group.organisations_without_staff,
                ),
                4,
            )
        pdf.ln(3)
    return bytes(pdf.output())
