"""The audit log: who did what, written in the same transaction as the action.

Entries are append-only for the application: the ORM refuses to change or
delete them (only the retention job removes old ones, with a bulk DELETE).
Details never hold secrets: keys that look like passwords or tokens are dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import JSON, ForeignKey, Index, Select, String, event, func, insert, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms import clock
from lms.db import Base, UTCDateTime
from lms.i18n import lazy_gettext as _l

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
        from lms.organisations.policy import managed_organisation_ids

        if organisation_id in managed_organisation_ids(actor):  # of it all or of units
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


@dataclass(frozen=True)
class Item:
    """What differs between the entries of one :func:`record_many` call."""

    object_id: Any = None
    subject_id: int | None = None
    details: dict[str, Any] | None = None


def record_many(
    session: Session,
    action: str,
    items: Iterable[Item],
    *,
    actor: Any = None,
    organisation_id: int | None = None,
    object_type: str | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Many entries of one action by one actor in one INSERT (bulk imports, enrol-all):
    the same rows as :func:`record` once per item, without an ORM object each."""
    role = role_of(actor, organisation_id)
    created_at = at or clock.now()
    rows = [
        {
            "created_at": created_at,
            "actor_id": getattr(actor, "id", None),
            "actor_role": role,
            "organisation_id": organisation_id,
            "action": action,
            "object_type": object_type,
            "object_id": None if item.object_id is None else str(item.object_id),
            "subject_id": item.subject_id,
            "details": _clean(item.details),
        }
        for item in items
    ]
    if rows:  # a Core INSERT: the ORM's bulk path costs more per row and adds nothing here
        session.execute(insert(AuditEntry.__table__), rows)
    return len(rows)


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


def _filtered(
    stmt: Select[Any],
    *,
    organisation_id: int | None,
    action: str | None,
    person_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    person_ids: list[int] | None = None,
) -> Select[Any]:
    if organisation_id is not None:
        stmt = stmt.where(AuditEntry.organisation_id == organisation_id)
    if action:
        # "certificate." asks for a family of actions, "role.granted" for one exactly.
        stmt = stmt.where(
            AuditEntry.action.startswith(action)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    if person_id is not None:
        stmt = stmt.where(or_(AuditEntry.actor_id == person_id, AuditEntry.subject_id == person_id))
    if person_ids is not None:  # any of these people, as actor or subject ([]: nobody)
        stmt = stmt.where(
            or_(AuditEntry.actor_id.in_(person_ids), AuditEntry.subject_id.in_(person_ids))
        )
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


def search(
    session: Session,
    *,
    organisation_id: int | None = None,
    action: str | None = None,
    person_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    person_ids: list[int] | None = None,
    limit: int | None = 500,
) -> list[AuditEntry]:
    stmt = _filtered(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()),
        organisation_id=organisation_id,
        action=action,
        person_id=person_id,
        since=since,
        until=until,
        person_ids=person_ids,
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


PER_PAGE = 50


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first, with what the pager needs."""

    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search_page(
    session: Session,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    organisation_id: int | None = None,
    action: str | None = None,
    person_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    person_ids: list[int] | None = None,
) -> AuditPage:
    """A bounded page: never more than ``per_page`` rows, whatever the filters."""
    filters: dict[str, Any] = {
        "organisation_id": organisation_id,
        "action": action,
        "person_id": person_id,
        "since": since,
        "until": until,
        "person_ids": person_ids,
    }
    total = session.scalar(_filtered(select(func.count(AuditEntry.id)), **filters)) or 0
    page = max(1, page)
    stmt = _filtered(
        select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()),
        **filters,
    )
    entries = list(session.scalars(stmt.offset((page - 1) * per_page).limit(per_page)))
    return AuditPage(entries, total, page, per_page)


def people_names(session: Session, entries: list[AuditEntry]) -> dict[int, str]:
    """Names of the actors and subjects of ``entries``, in one query."""
    from lms.accounts.models import User

    ids = {e.actor_id for e in entries} | {e.subject_id for e in entries}
    ids.discard(None)
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {row.id: row.full_name for row in rows}


# --- Labels ----------------------------------------------------------------------
# What each action code means, in words. A plugin may add or override labels with a
# class attribute ``audit_labels = {"code": lazy_gettext("...")}``; an unknown code is
# shown as it is, so a new action is never hidden.

ACTION_LABELS: dict[str, Any] = {
    "login": _l("Accesso alla piattaforma"),
    "login.failed": _l("Accesso non riuscito"),
    "logout": _l("Uscita dalla piattaforma"),
    "password.changed": _l("Password cambiata"),
    "password.reset_requested": _l("Richiesto il ripristino della password"),
    "password.reset": _l("Password reimpostata"),
    "profile.changed": _l("Profilo modificato"),
    "account.created": _l("Account creato dall'amministrazione"),
    "account.reactivated": _l("Account riattivato"),
    "role.granted": _l("Ruolo assegnato"),
    "role.revoked": _l("Ruolo tolto"),
    "membership.added": _l("Persona aggiunta a un ente"),
    "membership.ended": _l("Persona tolta da un ente"),
    "membership.audience_changed": _l("Profilo professionale cambiato"),
    "organisation.created": _l("Ente creato"),
    "organisation.updated": _l("Ente modificato"),
    "organisations.invitation_resent": _l("Invito inviato di nuovo"),
    "organisations.unit_created": _l("Unità creata"),
    "organisations.unit_renamed": _l("Unità rinominata"),
    "organisations.unit_moved": _l("Unità spostata"),
    "organisations.unit_closed": _l("Unità chiusa"),
    "organisations.member_placed": _l("Persona assegnata a un'unità"),
    "registration.requested": _l("Richiesta di registrazione confermata"),
    "registration.approved": _l("Richiesta di registrazione approvata"),
    "registration.refused": _l("Richiesta di registrazione respinta"),
    "registration.rule_changed": _l("Regole di registrazione cambiate"),
    "organisation.merged": _l("Enti uniti"),
    "organisation.merged_into": _l("Ente assorbito in un altro"),
    "organisations.membership_merged": _l("Appartenenze unite"),
    "organisations.referent_changed": _l("Referente di unità cambiato"),
    "sso.linked": _l("Identità esterna collegata all'account"),
    "sso.provider_saved": _l("Fornitore di accesso salvato"),
    "privacy.exported": _l("Esportati i dati personali"),
    "privacy.erased": _l("Cancellati i dati personali"),
    "privacy.notice_changed": _l("Informativa sulla privacy modificata"),
    "privacy.controller_changed": _l("Dati del titolare del trattamento modificati"),
    "retention.warned": _l("Preavviso di disattivazione per inattività"),
    "retention.deactivated": _l("Account disattivato per inattività"),
    "course.published": _l("Corso pubblicato"),
    "course.republished": _l("Nuova versione del corso pubblicata"),
    "course.unpublished": _l("Corso ritirato"),
    "course.coauthor_added": _l("Aggiunta una persona alla redazione del corso"),
    "course.coauthor_removed": _l("Tolta una persona dalla redazione del corso"),
    "enrolment.by_referent": _l("Iscrizione fatta dalla persona referente"),
    "quiz.attempts_reset": _l("Tentativi del quiz azzerati"),
    "certificate.revoked": _l("Attestato revocato"),
    "certificate.reissued": _l("Attestato emesso di nuovo"),
    "certificate.open_badge": _l("Credenziale Open Badges emessa"),
    "commitment.created": _l("Impegno formativo creato"),
    "commitment.updated": _l("Impegno formativo modificato"),
    "commitments.matrix_exported": _l("Esportata la matrice degli impegni"),
    "live_sessions.attendance_marked": _l("Presenze registrate"),
    "live_sessions.attendance_corrected": _l("Presenze corrette"),
}

ROLE_LABELS: dict[str, Any] = {
    "admin": _l("Amministrazione"),
    "coordinator": _l("Coordinamento di rete"),
    "trainer": _l("Formatrice o formatore"),
    "referent": _l("Referente"),
    "operator": _l("Operatrice o operatore"),
    "system": _l("Sistema"),
}


def _labels() -> dict[str, Any]:
    labels = dict(ACTION_LABELS)
    if has_app_context() and "lms" in current_app.extensions:
        for plugin in current_app.extensions["lms"].plugins:
            labels.update(getattr(plugin, "audit_labels", None) or {})
    return labels


def action_label(code: str) -> str:
    """The action in words; the code itself when nobody gave it a label."""
    found = _labels().get(code)
    return str(found) if found is not None else code


def action_choices() -> list[tuple[str, str]]:
    """Every labelled action, by label, for the log's filter."""
    return sorted(((code, str(label)) for code, label in _labels().items()), key=lambda c: c[1])


def role_label(code: str) -> str:
    """A role code (``admin``, ``referent`` ...) in words; the code when unknown."""
    found = ROLE_LABELS.get(code)
    return str(found) if found is not None else code


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
