"""The audit log: who did what, written in the same transaction as the action.

Entries are append-only for the application: the ORM refuses to change or
delete them (only the retention job removes old ones, with a bulk DELETE).
Details never hold secrets: keys that look like passwords or tokens are dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms import clock
from lms.db import Base, UTCDateTime

SECRET_WORDS = ("password", "token", "secret", "hash", "signature", "key")


class AuditEntry(Base):
    __tablename__ = "lms_audit_entry"
    __table_args__ = (
        Index("ix_lms_audit_entry_org_time", "organisation_id", "created_at"),
        Index("ix_lms_audit_entry_action_time", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), index=True
    )
    actor_role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    # The person the action is about (e.g. the member enrolled), for export and erasure.
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), index=True
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if any(word in key.lower() for word in SECRET_WORDS):
            continue
        clean[key] = (
            value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        )
    return clean


def role_of(actor: Any, organisation_id: int | None = None) -> str:
    """The hat the actor wore: admin, coordinator, trainer, referent or operator."""
    if actor is None:
        return "system"
    for role in ("admin", "coordinator", "trainer"):
        if actor.has_role(role):
            return role
    if organisation_id is not None:
        from lms.organisations.policy import referent_organisation_ids

        if organisation_id in referent_organisation_ids(actor):
            return "referent"
    return "operator"


def record(
    session: Session,
    action: str,
    *,
    actor: Any = None,
    organisation_id: int | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    subject_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        created_at=at or clock.now(),
        actor_id=getattr(actor, "id", None),
        actor_role=role_of(actor, organisation_id),
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        subject_id=subject_id,
        details=_clean(details),
    )
    session.add(entry)
    return entry


def install(session_class: type[Session]) -> None:
    """Refuse changes to entries in the app's sessions (``LMS.init_app``, once per app)."""
    if not event.contains(session_class, "before_flush", _append_only):
        event.listen(session_class, "before_flush", _append_only)


def _append_only(session: Session, _context: Any, _instances: Any) -> None:
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, AuditEntry) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise PermissionError("audit entries cannot be changed or deleted")


def search(
    session: Session,
    *,
    organisation_id: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = 500,
) -> list[AuditEntry]:
    from sqlalchemy import select

    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if organisation_id is not None:
        stmt = stmt.where(AuditEntry.organisation_id == organisation_id)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def to_csv(entries: list[AuditEntry]) -> str:
    import io
    import json

    from lms.exports import csv_writer, safe_cell

    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(
        [
            "created_at",
            "actor_id",
            "actor_role",
            "organisation_id",
            "action",
            "object",
            "subject_id",
            "details",
        ]
    )
    for e in entries:
        writer.writerow(
            [
                e.created_at.isoformat(),
                e.actor_id or "",
                e.actor_role,
                e.organisation_id or "",
                e.action,
                safe_cell(f"{e.object_type}:{e.object_id}" if e.object_type else ""),
                e.subject_id or "",
                safe_cell(json.dumps(e.details, ensure_ascii=False)),
            ]
        )
    return buffer.getvalue()
