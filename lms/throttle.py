"""Database-backed throttling shared by every worker and host.

Events are rows (scope, key, time); a limit is a count within a window. Used
for login failures, certificate look-ups and any other rate limit: state that
gunicorn workers on several hosts must agree on cannot live in process memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from typing import NamedTuple

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms import clock
from lms.db import Base, UTCDateTime


class ThrottleEvent(Base):
    __tablename__ = "lms_throttle_event"
    __table_args__ = (Index("ix_lms_throttle_event_lookup", "scope", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    # Hashed so that the table holds no e-mail addresses or IP addresses in clear.
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def address_key(remote_addr: str) -> str:
    """The address to count a client under: IPv4 as is, IPv6 by its /64 network.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6 addresses
    would give a guesser 2**64 fresh counters. IPv4-mapped IPv6 counts as IPv4.
    """
    try:
        address = ipaddress.ip_address(remote_addr.strip())
    except ValueError:
        return remote_addr
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Recent(NamedTuple):
    """The events of one (scope, key) within a window: how many, the first and the last."""

    count: int
    first: dt.datetime | None
    last: dt.datetime | None


def record(db: Session, scope: str, key: str, *, now: dt.datetime | None = None) -> None:
    db.add(ThrottleEvent(scope=scope, key=_digest(key), created_at=now or clock.now()))


def count_recent(
    db: Session, scope: str, key: str, window: dt.timedelta, *, now: dt.datetime | None = None
) -> int:
    since = (now or clock.now()) - window
    stmt = select(func.count(ThrottleEvent.id)).where(
        ThrottleEvent.scope == scope,
        ThrottleEvent.key == _digest(key),
        ThrottleEvent.created_at >= since,
    )
    return int(db.scalar(stmt) or 0)


def recent(
    db: Session, scope: str, key: str, window: dt.timedelta, *, now: dt.datetime | None = None
) -> Recent:
    """Events younger than ``window`` (one exactly ``window`` old has expired)."""
    since = (now or clock.now()) - window
    stmt = select(
        func.count(ThrottleEvent.id),
        func.min(ThrottleEvent.created_at),
        func.max(ThrottleEvent.created_at),
    ).where(
        ThrottleEvent.scope == scope,
        ThrottleEvent.key == _digest(key),
        ThrottleEvent.created_at > since,
    )
    count, first, last = db.execute(stmt).one()
    # MIN/MAX take the column's type, so both come back aware (UTCDateTime).
    return Recent(int(count or 0), first, last)


def is_limited(
    db: Session,
    scope: str,
    key: str,
    *,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime | None = None,
) -> bool:
    return count_recent(db, scope, key, window, now=now) >= limit


def clear(db: Session, scope: str, key: str) -> None:
    db.execute(
        delete(ThrottleEvent).where(ThrottleEvent.scope == scope, ThrottleEvent.key == _digest(key))
    )


def prune(db: Session, older_than: dt.timedelta, *, now: dt.datetime | None = None) -> int:
    cutoff = (now or clock.now()) - older_than
    result = db.execute(delete(ThrottleEvent).where(ThrottleEvent.created_at < cutoff))
    return int(result.rowcount or 0)
