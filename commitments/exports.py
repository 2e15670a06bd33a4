"""Monitoring exports of an organisation's matrix: CSV and XLSX, for a chosen date.

Both come from one :class:`commitments.coverage.Evaluation` (the same query
path as the dashboard). Every text cell is protected against formula
injection: a value starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is prefixed with an apostrophe, so that Excel, LibreOffice and Google
Sheets show it as text instead of running it. CSV files are UTF-8 with BOM and
semicolons (what Excel in Italian opens directly); dates are ISO in CSV and
real dates in XLSX.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from flask_babel import gettext as _

from commitments.coverage import CommitmentReport, Evaluation
from commitments.labels import status_label
from commitments.status import LOCAL_TZ, STATUS_ORDER, Status
from lms.organisations.models import Audience, Organisation

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_DATE_FORMAT = "DD/MM/YYYY"


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would read as a formula becomes literal text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else moment.astimezone(LOCAL_TZ).date()


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def matrix_header(report: CommitmentReport, titles: dict[int, str]) -> list[str]:
    header = [
        _("Impegno"),
        _("Nome e cognome"),
        _("E-mail"),
        _("Profilo"),
        _("Stato"),
        _("Valido fino al"),
    ]
    for link in report.commitment.courses:
        title = titles.get(link.course_id, link.course.slug)
        header += [
            f"{title} – {_('stato')}",
            f"{title} – {_('completato il')}",
            f"{title} – {_('valido fino al')}",
        ]
    return header


def matrix_rows(
    report: CommitmentReport, audiences: dict[int, Audience], locale: str
) -> Iterable[list[object]]:
    """Rows with dates as ``date`` objects (the writers format them)."""
    labels = {status: status_label(status) for status in Status}  # translated once
    for row in report.rows:
        audience = audiences.get(row.audience_id)
        values: list[object] = [
            report.commitment.title,
            row.full_name,
            row.email,
            audience.name(locale) if audience else "",
            labels[row.status],
            local_date(row.valid_until),
        ]
        for link in report.commitment.courses:
            cell = row.cells[link.course_id]
            values += [
                labels[cell.status],
                local_date(cell.completed_at),
                local_date(cell.valid_until),
            ]
        yield values


def _summary_rows(
    organisation: Organisation, evaluation: Evaluation, reports: Sequence[CommitmentReport]
) -> list[list[object]]:
    rows: list[list[object]] = [
        [_("Organizzazione"), organisation.name],
        [_("Situazione al"), evaluation.moment.on],
        [],
        [
            _("Impegno"),
            _("Persone nel perimetro"),
            _("Con formazione valida"),
            _("Copertura %"),
            _("Obiettivo %"),
            _("Scadenza"),
            *[status_label(s) for s in STATUS_ORDER],
        ],
    ]
    for report in reports:
        coverage = report.coverage_percent
        rows.append(
            [
                report.commitment.title,
                report.in_scope,
                report.valid,
                round(coverage, 1) if coverage is not None else "",
                report.commitment.target_percent,
                report.commitment.deadline,
                *[report.counts[s] for s in STATUS_ORDER],
            ]
        )
    return rows


def matrix_csv(
    organisation: Organisation,
    evaluation: Evaluation,
    audiences: dict[int, Audience],
    locale: str,
) -> bytes:
    """One file for every commitment of the organisation, one line per person and commitment."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    reports = evaluation.relevant(organisation.id)
    width = max((len(matrix_header(r, evaluation.course_titles)) for r in reports), default=6)
    writer.writerow([safe_cell(organisation.name), evaluation.moment.on.isoformat()])
    for report in reports:
        writer.writerow([])
        header = matrix_header(report, evaluation.course_titles)
        writer.writerow([safe_cell(h) for h in header] + [""] * (width - len(header)))
        for values in matrix_rows(report, audiences, locale):
            writer.writerow([_iso(v) if isinstance(v, dt.date) else safe_cell(v) for v in values])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _sheet_title(text: str, used: set[str]) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\'" else ch for ch in text)[:28].strip() or "Impegno"
    title, n = cleaned, 2
    while title.lower() in used:
        title = f"{cleaned[:25]} ({n})"
        n += 1
    used.add(title.lower())
    return title


def _row(sheet, values: Sequence[object], *, bold: bool = False) -> list:  # noqa: ANN001
    """Write-only cells: escaped text (never a formula), real dates, optional bold."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        if isinstance(value, dt.date):
            cell.number_format = XLSX_DATE_FORMAT
        elif isinstance(cell.value, str):
            cell.data_type = "s"
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def matrix_xlsx(
    organisation: Organisation,
    evaluation: Evaluation,
    audiences: dict[int, Audience],
    locale: str,
) -> bytes:
    """A summary sheet, then one sheet per commitment with the staff × course matrix.

    Written in openpyxl's write-only mode: rows stream out, memory stays flat.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(_("Riepilogo")[:31])
    summary.column_dimensions["A"].width = 60
    reports = evaluation.relevant(organisation.id)
    for index, values in enumerate(_summary_rows(organisation, evaluation, reports)):
        summary.append(_row(summary, values, bold=index in (0, 3)))
    used = {summary.title.lower()}
    for report in reports:
        sheet = workbook.create_sheet(_sheet_title(report.commitment.title, used))
        header = matrix_header(report, evaluation.course_titles)
        sheet.freeze_panes = "C2"
        for index in range(1, len(header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 18 if index > 4 else 30
        sheet.append(_row(sheet, header, bold=True))
        for values in matrix_rows(report, audiences, locale):
            sheet.append(_row(sheet, values))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_filename(organisation: Organisation, on: dt.date, extension: str) -> str:
    return f"impegni-{organisation.code.lower()}-{on.isoformat()}.{extension}"
