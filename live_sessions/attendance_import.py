"""Importing a sign-in sheet typed up as CSV: every row checked, then all or nothing.

Columns (header on the first line, any order, other columns ignored):
``email``, ``presenza`` (presente / assente / parziale) and ``minuti`` (only
for parziale). Rows with an empty ``presenza`` are skipped. Commas, semicolons
(Excel in Italian) or tabs; UTF-8 with or without BOM. Errors name the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from live_sessions.attendance import (
    Mark,
    check_mark,
    confirmed_user_ids,
    record_marks,
    require_marking_open,
)
from live_sessions.models import AttendanceStatus, LiveSession
from live_sessions.policy import can_manage_session
from lms import clock
from lms.accounts.models import User
from lms.errors import Forbidden, FormatError, FormatIssue, NotFound

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
STATUS_WORDS = {
    "presente": AttendanceStatus.PRESENT,
    "present": AttendanceStatus.PRESENT,
    "p": AttendanceStatus.PRESENT,
    "assente": AttendanceStatus.ABSENT,
    "absent": AttendanceStatus.ABSENT,
    "a": AttendanceStatus.ABSENT,
    "parziale": AttendanceStatus.PARTIAL,
    "partial": AttendanceStatus.PARTIAL,
}
HEADERS = {
    "email": "email",
    "e-mail": "email",
    "presenza": "status",
    "stato": "status",
    "status": "status",
    "minuti": "minutes",
    "minutes": "minutes",
}


def _rows(data: bytes, name: str) -> list[tuple[int, dict[str, str]]]:
    if len(data) > MAX_BYTES:
        raise FormatError([FormatIssue(name, None, _("Il file supera 1 MB."))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError([FormatIssue(name, None, _("Il file deve essere in UTF-8."))]) from error
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    columns = [HEADERS.get(h.strip().lower()) for h in header or []]
    if "email" not in columns or "status" not in columns:
        raise FormatError(
            [FormatIssue(name, 1, _("Servono almeno le colonne «email» e «presenza»."))]
        )
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        values = {
            column: cell.strip()
            for column, cell in zip(columns, record, strict=False)
            if column is not None
        }
        rows.append((reader.line_num, values))
        if len(rows) > MAX_ROWS:
            raise FormatError([FormatIssue(name, reader.line_num, _("Troppe righe."))])
    return rows


def parse_sheet(session: Session, live: LiveSession, data: bytes, name: str) -> list[Mark]:
    """Marks from the file, or a FormatError listing every bad row by line number."""
    issues: list[FormatIssue] = []
    registered = confirmed_user_ids(session, live.id)
    seen: dict[int, int] = {}
    marks: list[Mark] = []
    for line, values in _rows(data, name):
        raw_status = values.get("status", "").lower()
        if not raw_status:
            continue
        email = values.get("email", "").lower()
        status = STATUS_WORDS.get(raw_status)
        if status is None:
            issues.append(
                FormatIssue(
                    name,
                    line,
                    _(
                        "«%(value)s» non è una presenza valida (presente, assente, parziale).",
                        value=values.get("status", ""),
                    ),
                )
            )
            continue
        minutes: int | None = None
        raw_minutes = values.get("minutes", "")
        if raw_minutes:
            if not raw_minutes.isdigit():
                issues.append(
                    FormatIssue(name, line, _("I minuti devono essere un numero intero."))
                )
                continue
            minutes = int(raw_minutes)
        user_id = session.scalar(select(User.id).where(func.lower(User.email) == email))
        if not email or user_id is None:
            issues.append(
                FormatIssue(
                    name, line, _("Nessun account con l'indirizzo «%(email)s».", email=email)
                )
            )
            continue
        if user_id not in registered:
            issues.append(
                FormatIssue(
                    name,
                    line,
                    _("%(email)s non ha un'iscrizione confermata a questo incontro.", email=email),
                )
            )
            continue
        if user_id in seen:
            issues.append(
                FormatIssue(
                    name,
                    line,
                    _("%(email)s compare già alla riga %(line)d.", email=email, line=seen[user_id]),
                )
            )
            continue
        seen[user_id] = line
        mark = Mark(user_id, status, minutes)
        if problem := check_mark(live, mark):
            issues.append(FormatIssue(name, line, problem))
            continue
        marks.append(mark)
    if issues:
        raise FormatError(issues)
    return marks


def import_sheet(
    session: Session,
    session_id: int,
    data: bytes,
    name: str,
    *,
    actor: User,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Check the whole sheet, then record it; returns (rows read, changes made)."""
    live = session.get(LiveSession, session_id)
    if live is None:
        raise NotFound(_("Incontro non trovato."))
    if not can_manage_session(actor, live):
        raise Forbidden(_("Puoi registrare le presenze solo degli incontri che conduci."))
    now = now or clock.now()
    require_marking_open(live, now)  # before reading the sheet: no row can count yet
    marks = parse_sheet(session, live, data, name)
    changed = record_marks(session, session_id, marks, actor=actor, source="import", now=now)
    return len(marks), changed
