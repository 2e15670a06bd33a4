"""Filtering, sorting and paging the staff × course matrix (plain values in, page out).

One rule, two implementations that must agree: :func:`page_of` narrows, sorts and
pages rows already evaluated (the exact evaluation, for past dates and databases
whose standings are not built), :func:`sql_page` does the same in SQL on the stored
standings, per-course states and name keys (``commitments.standing``), reading the
shown page only. Keys, in order: name (``str.casefold`` then id), e-mail, profile,
status (severity, then validity's end, none last), validity's end, a course's cell
(severity, validity's end); descending reverses the whole key.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, null, or_, select
from sqlalchemy.orm import Session, aliased

from commitments import standing
from commitments.models import Commitment, CourseState, NameKey, StandingRow
from commitments.reporting.coverage import CommitmentReport, PersonRow
from commitments.reporting.names import name_key
from commitments.rules.status import SEVERITY, Moment, Status, stored_status
from lms.accounts.models import User
from lms.organisations.models import Membership

SORT_KEYS = ("name", "email", "audience", "status", "valid_until")
_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class MatrixQuery:
    q: str = ""
    audience_id: int | None = None
    status: Status | None = None
    sort: str = "name"  # one of SORT_KEYS or "course-<id>"
    descending: bool = False
    page: int = 1


@dataclass(frozen=True)
class MatrixPage:
    rows: list[PersonRow]
    total: int  # after filters
    page: int
    pages: int
    page_size: int

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


def parse_sort(raw: str | None, course_ids: list[int]) -> str:
    if raw in SORT_KEYS:
        return raw
    if raw and raw.startswith("course-") and raw[7:].isdigit() and int(raw[7:]) in course_ids:
        return raw
    return "name"


def _key(sort: str, audience_names: dict[int, str]):  # noqa: ANN202
    def name(row: PersonRow) -> tuple:
        return (name_key(row.full_name), row.user_id)

    if sort == "email":
        return lambda r: (r.email, r.user_id)
    if sort == "audience":
        return lambda r: (audience_names.get(r.audience_id, ""), *name(r))
    if sort == "status":
        return lambda r: (SEVERITY[r.status], r.valid_until or _FAR, *name(r))
    if sort == "valid_until":
        return lambda r: (r.valid_until is None, r.valid_until or _FAR, *name(r))
    if sort.startswith("course-"):
        course_id = int(sort[7:])
        return lambda r: (
            SEVERITY[r.cells[course_id].status],
            r.cells[course_id].valid_until or _FAR,
            *name(r),
        )
    return name


def page_of(
    report: CommitmentReport,
    query: MatrixQuery,
    audience_names: dict[int, str],
    page_size: int = 50,
) -> MatrixPage:
    rows = report.rows
    if query.audience_id is not None:
        rows = [r for r in rows if r.audience_id == query.audience_id]
    if query.status is not None:
        rows = [r for r in rows if r.status is query.status]
    text = query.q.strip().casefold()
    if text:
        rows = [r for r in rows if text in r.full_name.casefold() or text in r.email]
    rows = sorted(rows, key=_key(query.sort, audience_names), reverse=query.descending)
    page, pages = _page_numbers(len(rows), query.page, page_size)
    start = (page - 1) * page_size
    return MatrixPage(rows[start : start + page_size], len(rows), page, pages, page_size)


def _page_numbers(total: int, wanted: int, page_size: int) -> tuple[int, int]:
    pages = max(1, math.ceil(total / page_size))
    return min(max(1, wanted), pages), pages


def _binary(session: Session, column: Any) -> Any:
    """Byte-wise (code point) comparison, as Python compares ``str``."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column  # SQLite's default collation is BINARY


def _contains(session: Session, column: Any, text: str) -> Any:
    """Case-sensitive substring test (SQLite's LIKE ignores ASCII case)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.strpos(column, text) > 0
    return func.instr(column, text) > 0


def _severity(status: Any) -> Any:
    return case({s.value: rank for s, rank in SEVERITY.items()}, value=status)


def _cell_status(cell: Any, moment: Moment, expiring_days: int) -> Any:
    """The SQL twin of :func:`commitments.rules.status.course_cell` on a stored state."""
    ending = and_(cell.completed_at.is_not(None), cell.valid_until.is_not(None))
    expiring_from = moment.at + dt.timedelta(days=expiring_days)
    return case(
        (and_(ending, cell.valid_until <= moment.at), Status.EXPIRED.value),
        (and_(ending, cell.valid_until <= expiring_from), Status.EXPIRING.value),
        (cell.completed_at.is_not(None), Status.COMPLETE.value),
        else_=func.coalesce(cell.progress, Status.NOT_ENROLLED.value),
    )


def _audience_rank(audience_names: dict[int, str]) -> Any:
    names = sorted({"", *audience_names.values()})
    ranks = {a_id: names.index(name) for a_id, name in audience_names.items()}
    if not ranks:
        return null()
    return case(ranks, value=Membership.audience_id, else_=names.index(""))


def sql_page(
    session: Session,
    commitment: Commitment,
    organisation_id: int,
    moment: Moment,
    expiring_days: int,
    query: MatrixQuery,
    audience_names: dict[int, str],
    page_size: int = 50,
    unit_ids: Collection[int] | None = None,
) -> MatrixPage | None:
    """:func:`page_of` in two statements (the count, the page), without cells.

    None when someone in scope has no name key yet (written around the session):
    the caller then takes the exact path, which sorts in Python.
    """
    scope: list[ColumnElement[bool]] = [
        Membership.organisation_id == organisation_id,
        Membership.created_at <= moment.at,
        or_(Membership.ended_at.is_(None), Membership.ended_at > moment.at),
        Membership.audience_id.in_(commitment.audience_ids),
    ]
    if unit_ids is not None:
        scope.append(Membership.unit_id.in_(sorted(unit_ids)))
    status = standing.status_expression(moment, commitment.deadline, expiring_days)
    filters: list[ColumnElement[bool]] = []
    if query.audience_id is not None:
        filters.append(Membership.audience_id == query.audience_id)
    if query.status is not None:
        filters.append(status == query.status.value)
    text = query.q.strip().casefold()
    if text:
        filters.append(
            or_(_contains(session, NameKey.name_key, text), _contains(session, User.email, text))
        )
    standing_row = and_(
        StandingRow.user_id == Membership.user_id, StandingRow.commitment_id == commitment.id
    )
    keyed = (
        select()
        .select_from(Membership)
        .outerjoin(NameKey, NameKey.user_id == Membership.user_id)
        .where(*scope)
    )
    # The count joins only what its filters read (each join is a look-up per person).
    counted = keyed.join(User, User.id == Membership.user_id) if text else keyed
    if query.status is not None:
        counted = counted.outerjoin(StandingRow, standing_row)
    matching = and_(*filters) if filters else None
    total_column = func.count() if matching is None else func.sum(case((matching, 1), else_=0))
    counted = counted.add_columns(
        total_column, func.sum(case((NameKey.user_id.is_(None), 1), else_=0))
    )
    total, missing = session.execute(counted).one()
    if missing:
        return None
    total = int(total or 0)
    page, pages = _page_numbers(total, query.page, page_size)
    if not total:
        return MatrixPage([], 0, page, pages, page_size)

    valid = status.in_([Status.COMPLETE.value, Status.EXPIRING.value])
    shown_until = case((valid, StandingRow.valid_until), else_=None)
    name = [_binary(session, NameKey.name_key), Membership.user_id]
    order: list[Any]
    stmt = keyed.join(User, User.id == Membership.user_id).outerjoin(StandingRow, standing_row)
    if query.sort == "email":
        order = [_binary(session, User.email), Membership.user_id]
    elif query.sort == "audience":
        order = [_audience_rank(audience_names), *name]
    elif query.sort == "status":
        order = [_severity(status), shown_until.is_(None), shown_until, *name]
    elif query.sort == "valid_until":
        order = [shown_until.is_(None), shown_until, *name]
    elif query.sort.startswith("course-"):
        cell = aliased(CourseState)
        stmt = stmt.outerjoin(
            cell,
            and_(
                cell.user_id == Membership.user_id,
                cell.commitment_id == commitment.id,
                cell.course_id == int(query.sort[7:]),
            ),
        )
        cell_until = cell.valid_until  # None unless completed (then None: no end)
        order = [
            _severity(_cell_status(cell, moment, expiring_days)),
            cell_until.is_(None),
            cell_until,
            *name,
        ]
    else:
        order = name
    if query.descending:
        order = [term.desc() for term in order]
    stmt = stmt.add_columns(
        Membership.user_id,
        Membership.audience_id,
        StandingRow.satisfied,
        StandingRow.valid_until,
        StandingRow.progress,
        User.full_name,
        User.email,
    )
    if matching is not None:
        stmt = stmt.where(matching)
    stmt = stmt.order_by(*order).limit(page_size).offset((page - 1) * page_size)
    deadline, window = commitment.deadline, dt.timedelta(days=expiring_days)
    rows = []
    for user_id, audience_id, satisfied, until, progress, full_name, email in session.execute(stmt):
        row_status, row_until = stored_status(satisfied, until, progress, moment, deadline, window)
        row = PersonRow(user_id, organisation_id, audience_id, row_status, row_until, {})
        row.full_name, row.email = full_name, email
        rows.append(row)
    return MatrixPage(rows, total, page, pages, page_size)
