"""Who sees which certificates: the holder, an organisation's referents, admins.

Status is computed (it depends on the clock), so status filters run on the
rows of an already narrow query: one person's, or one organisation's staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from certificates import codes
from certificates.models import Certificate, Status
from lms import clock
from lms.accounts.models import User
from lms.organisations.models import Membership

#: statuses a referent can ask for; "current" means valid or expiring
CURRENT = (Status.VALID, Status.EXPIRING)
ORGANISATION_FILTERS = ("current", Status.VALID, Status.EXPIRING, Status.EXPIRED)


@dataclass(frozen=True)
class Row:
    certificate: Certificate
    status: Status


def with_status(
    certs: Iterable[Certificate], expiring_days: int, now: dt.datetime | None = None
) -> list[Row]:
    now = now or clock.now()
    return [Row(c, c.status(now, expiring_days)) for c in certs]


def of_holder(session: Session, user_id: int) -> list[Certificate]:
    """Everything the person holds, newest first, history included."""
    stmt = (
        select(Certificate)
        .where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    return list(session.scalars(stmt))


def _organisation_query(organisation_id: int, key: str | None) -> Select[Any]:
    """Certificates of the organisation's current staff (not revoked, not superseded)."""
    staff = select(Membership.user_id).where(
        Membership.organisation_id == organisation_id, Membership.ended_at.is_(None)
    )
    stmt = select(Certificate).where(
        Certificate.user_id.in_(staff),
        Certificate.revoked_at.is_(None),
        Certificate.superseded_at.is_(None),
    )
    if key:
        stmt = stmt.where(Certificate.key == key)
    return stmt


def _status_clause(status: str, now: dt.datetime, expiring_days: int) -> ColumnElement[bool]:
    """``Certificate.status`` as SQL, for the statuses a referent filters by (the query
    already leaves out revoked and superseded certificates)."""
    soon = now + dt.timedelta(days=expiring_days)
    expires = Certificate.expires_at
    if status == "current":
        return or_(expires.is_(None), expires > now)
    if status == Status.EXPIRED:
        return and_(expires.is_not(None), expires <= now)
    if status == Status.EXPIRING:
        return and_(expires > now, expires <= soon)
    return or_(expires.is_(None), expires > soon)  # valid


def _filtered(
    organisation_id: int, key: str | None, status: str, expiring_days: int, now: dt.datetime
) -> Select[Any]:
    return _organisation_query(organisation_id, key).where(
        _status_clause(status, now, expiring_days)
    )


def organisation_certificates(
    session: Session,
    organisation_id: int,
    *,
    key: str | None = None,
    status: str = "current",
    expiring_days: int,
    now: dt.datetime | None = None,
) -> list[Row]:
    now = now or clock.now()
    stmt = _filtered(organisation_id, key, status, expiring_days, now).order_by(
        Certificate.holder_name, Certificate.title, Certificate.id
    )
    return with_status(session.scalars(stmt), expiring_days, now)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def organisation_page(
    session: Session,
    organisation_id: int,
    *,
    key: str | None = None,
    status: str = "current",
    expiring_days: int,
    page: int = 1,
    per_page: int = 50,
    now: dt.datetime | None = None,
) -> Page:
    """One page of :func:`organisation_certificates`, filtered, counted and cut in SQL
    (an organisation of 5,000 holds some 15,000 certificates)."""
    now = now or clock.now()
    stmt = _filtered(organisation_id, key, status, expiring_days, now)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number = min(max(1, page), max(1, -(-total // per_page)))
    certs = session.scalars(
        stmt.order_by(Certificate.holder_name, Certificate.title, Certificate.id)
        .limit(per_page)
        .offset((number - 1) * per_page)
    )
    return Page(with_status(certs, expiring_days, now), total, number, per_page)


def organisation_titles(session: Session, organisation_id: int) -> list[tuple[str, str]]:
    """(key, title) pairs for the course filter, one per key (latest title)."""
    stmt = _organisation_query(organisation_id, None).order_by(Certificate.id)
    titles: dict[str, str] = {}
    for cert in session.scalars(stmt):
        titles[cert.key] = cert.title
    return sorted(titles.items(), key=lambda item: item[1].lower())


def search(session: Session, query: str, limit: int = 50) -> list[Certificate]:
    """Admin search by serial, code, holder name or e-mail."""
    query = (query or "").strip()
    if not query:
        return []
    code = codes.normalise(query)
    like = f"%{query.lower()}%"
    stmt = (
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .where(
            or_(
                Certificate.serial.ilike(like),
                Certificate.holder_name.ilike(like),
                User.email.ilike(like),
                Certificate.code == (code or ""),
            )
        )
        .order_by(Certificate.issued_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
