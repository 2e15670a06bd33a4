"""Italian labels (through Babel) for statuses and dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import format_date, format_decimal, gettext

from commitments.rules.status import LOCAL_TZ, AmountPart, Cell, Status
from lms.i18n import lazy_gettext as _l

STATUS_LABELS = {
    Status.NOT_ENROLLED: _l("Nessuna iscrizione"),
    Status.NOT_STARTED: _l("Non iniziato"),
    Status.IN_PROGRESS: _l("In corso"),
    Status.COMPLETE: _l("Completato"),
    Status.EXPIRING: _l("In scadenza"),
    Status.EXPIRED: _l("Scaduto"),
    Status.OVERDUE: _l("In ritardo"),
}


def status_label(status: Status | str) -> str:
    return str(STATUS_LABELS[Status(status)])


def local_day(moment: dt.datetime | dt.date | None, style: str = "medium") -> str:
    if moment is None:
        return ""
    day = moment.astimezone(LOCAL_TZ).date() if isinstance(moment, dt.datetime) else moment
    return format_date(day, style)


def percent(value: float | None) -> str:
    """``62.5`` -> ``62,5 %`` (Italian); ``None`` -> ``—``."""
    if value is None:
        return "—"
    return f"{format_decimal(round(value, 1), format='#,##0.#')} %"


def hours_minutes(seconds: int | None) -> str:
    """``3900`` -> ``1:05`` (hours and minutes, as a timesheet reads); ``None`` -> ``—``."""
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def number(value: Decimal) -> str:
    """``Decimal("4.50")`` -> ``4,5`` (Italian, at most two decimals)."""
    return format_decimal(value, format="#,##0.##")


def amount_text(part: AmountPart) -> str:
    """What a person has gathered against an amount: ``4,5 h su 8``, ``6 crediti su 10``."""
    values = {"n": number(part.counted), "of": number(part.required)}
    if part.kind == "hours":
        return gettext("%(n)s h su %(of)s", **values)
    return gettext("%(n)s crediti su %(of)s", **values)


def amount_heading(kind: str, required: Decimal) -> str:
    """A column's heading: ``Ore (su 8)``, ``Crediti (su 10)``."""
    if kind == "hours":
        return gettext("Ore (su %(of)s)", of=number(required))
    return gettext("Crediti (su %(of)s)", of=number(required))


@dataclass(frozen=True)
class CellView:
    status: str  # CSS modifier
    label: str
    note: str  # "valido fino al …", "scaduto il …", "senza scadenza" or ""


class CellTexts:
    """Display texts of matrix cells, translated once per page rather than per cell
    (a 50 × 10 page is 500 cells: per-cell gettext and date formatting added up)."""

    def __init__(self) -> None:
        self.labels = {status: status_label(status) for status in Status}
        self.valid = gettext("valido fino al %(d)s")
        self.expired = gettext("scaduto il %(d)s")
        self.forever = gettext("senza scadenza")
        self._days: dict[dt.date, str] = {}

    def day(self, moment: dt.datetime) -> str:
        day = moment.astimezone(LOCAL_TZ).date()
        if day not in self._days:
            self._days[day] = local_day(day)
        return self._days[day]

    def __call__(self, cell: Cell) -> CellView:
        status = cell.status
        note = ""
        if cell.valid_until and status in (Status.COMPLETE, Status.EXPIRING, Status.EXPIRED):
            text = self.expired if status is Status.EXPIRED else self.valid
            note = text % {"d": self.day(cell.valid_until)}
        elif cell.completed_at and not cell.valid_until:
            note = self.forever
        return CellView(status.value, self.labels[status], note)
