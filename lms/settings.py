"""Small texts the administrator edits in the browser (e.g. the privacy notice)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms import clock
from lms.db import Base, UTCDateTime


class Setting(Base):
    __tablename__ = "lms_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )


def get_setting(session: Session, key: str, default: str) -> str:
    found = session.get(Setting, key)
    return found.value if found is not None else default


def set_setting(session: Session, key: str, value: str, *, by_id: int | None) -> None:
    found = session.get(Setting, key)
    if found is None:
        session.add(Setting(key=key, value=value, updated_by_id=by_id))
    else:
        found.value, found.updated_at, found.updated_by_id = value, clock.now(), by_id
