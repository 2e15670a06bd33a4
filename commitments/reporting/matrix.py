"""Filtering, sorting and paging the staff × course matrix (plain values in, page out).

Statuses are derived, so filters on them cannot run in SQL: the evaluation
holds every in-scope person of the organisation (one query path), and this
module narrows it for display. Thousands of rows sort in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from commitments.reporting.coverage import CommitmentReport, PersonRow
from commitments.rules.status import SEVERITY, Status

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
        return (row.full_name.casefold(), row.user_id)

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
    pages = max(1, math.ceil(len(rows) / page_size))
    page = min(max(1, query.page), pages)
    start = (page - 1) * page_size
    return MatrixPage(rows[start : start + page_size], len(rows), page, pages, page_size)
