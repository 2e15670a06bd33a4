"""Personal data: export and erasure across the core and every plugin.

Erasure pseudonymises rather than deletes: the person's rows stay attached to
an anonymous account, so organisation and network statistics keep counting
what happened, while nothing identifies the person any more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lms import audit, clock
from lms.accounts.models import User
from lms.db import Base
from lms.errors import NotFound, ServiceError
from lms.i18n import lazy_gettext as _l
from lms.organisations.models import Membership
from lms.plugins import PrivacyProvider
from lms.settings import Setting

ERASED_NAME = "Persona cancellata"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _core_export(session: Session, user_id: int) -> dict[str, Any]:
    user = session.get(User, user_id)
    assert user is not None
    memberships = session.scalars(select(Membership).where(Membership.user_id == user_id))
    entries = session.scalars(
        select(audit.AuditEntry)
        .where(or_(audit.AuditEntry.actor_id == user_id, audit.AuditEntry.subject_id == user_id))
        .order_by(audit.AuditEntry.created_at)
    )
    return {
        "profile": {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "professional_id": user.professional_id,
            "locale": user.locale,
            "active": user.active,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "roles": sorted(user.role_names),
        },
        "memberships": [
            {
                "organisation": m.organisation.name,
                "audience": m.audience.code,
                "referent": m.is_referent,
                "from": _iso(m.created_at),
                "until": _iso(m.ended_at),
            }
            for m in memberships
        ],
        "activity_log": [
            {
                "at": _iso(e.created_at),
                "action": e.action,
                "as": "actor" if e.actor_id == user_id else "subject",
                "object": f"{e.object_type}:{e.object_id}" if e.object_type else None,
            }
            for e in entries
        ],
    }


def _core_erase(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    assert user is not None
    user.email = f"cancellata-{user.id}@erased.invalid"
    user.full_name = ERASED_NAME
    user.professional_id = None
    user.password_hash = None
    user.active = False
    user.last_login_at = None
    user.rotate_session_token()
    user.roles.clear()
    session.execute(
        update(Setting).where(Setting.updated_by_id == user_id).values(updated_by_id=None)
    )
    now = clock.now()
    for membership in session.scalars(
        select(Membership).where(Membership.user_id == user_id, Membership.ended_at.is_(None))
    ):
        membership.ended_at = now
        membership.is_referent = False


CORE_PROVIDER = PrivacyProvider(
    tables=frozenset(
        {"lms_user", "lms_user_role", "lms_membership", "lms_audit_entry", "lms_setting"}
    ),
    export=_core_export,
    erase=_core_erase,
)


def _jobs_provider() -> PrivacyProvider:
    from lms.jobs import upkeep

    return PrivacyProvider(tables=frozenset({"lms_job"}), export=upkeep.export, erase=upkeep.erase)


def providers() -> dict[str, PrivacyProvider]:
    from lms.registration.privacy import PROVIDER as REGISTRATION
    from lms.sso.privacy import PROVIDER as SSO

    found = {
        "core": CORE_PROVIDER,
        "jobs": _jobs_provider(),
        "registration": REGISTRATION,
        "sso": SSO,
    }
    for plugin in current_app.extensions["lms"].plugins:
        provider = plugin.privacy()
        if provider is not None:
            found[plugin.name] = provider
    return found


def uncovered_tables() -> set[str]:
    """Tables that reference a person but that no privacy provider declares."""
    covered = set().union(*(p.tables for p in providers().values()))
    personal = {
        table.name
        for table in Base.metadata.tables.values()
        if any(fk.column.table.name == "lms_user" for fk in table.foreign_keys)
    }
    return personal - covered


def export_user(session: Session, user_id: int, *, actor: User | None) -> dict[str, Any]:
    if session.get(User, user_id) is None:
        raise NotFound("utente non trovato")
    data: dict[str, Any] = {"generated_at": clock.now().isoformat()}
    for name, provider in providers().items():
        data[name] = provider.export(session, user_id)
    audit.record(
        session,
        "privacy.exported",
        actor=actor,
        object_type="user",
        object_id=user_id,
        subject_id=user_id,
    )
    return data


def erase_user(session: Session, user_id: int, *, actor: User, confirm_email: str) -> None:
    """Irreversible: pseudonymise a person everywhere. The admin retypes the e-mail."""
    from flask_babel import gettext as _

    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("Persona non trovata."))
    if user.full_name == ERASED_NAME and not user.active and user.email.endswith(".invalid"):
        raise ServiceError(_("Questa persona è già stata cancellata."))
    if confirm_email.strip().lower() != user.email:
        raise ServiceError(_("Per confermare scrivi esattamente l'indirizzo e-mail della persona."))
    if user.id == actor.id:
        raise ServiceError(_("Non puoi cancellare il tuo stesso account."))
    for provider in reversed(list(providers().values())):  # plugins first, core last
        provider.erase(session, user_id)
    audit.record(
        session,
        "privacy.erased",
        actor=actor,
        object_type="user",
        object_id=user_id,
        subject_id=user_id,
    )
    session.flush()


# --- The controller's details (GDPR Art. 13(1)(a)-(b)) ---------------------------
# Each installation has its own controller: the administrator enters them in the browser
# (``lms_setting``); until then the notice says they are not configured, never a
# placeholder that reads like a value.

CONTROLLER_PREFIX = "privacy."


@dataclass(frozen=True)
class ControllerField:
    key: str
    label: Any
    required: bool
    email: bool = False


CONTROLLER_FIELDS: tuple[ControllerField, ...] = (
    ControllerField("controller_name", _l("Titolare del trattamento"), True),
    ControllerField("controller_address", _l("Sede del titolare"), True),
    ControllerField("controller_email", _l("E-mail o PEC del titolare"), True, email=True),
    ControllerField("dpo_name", _l("Responsabile della protezione dei dati (RPD)"), False),
    ControllerField(
        "dpo_email", _l("E-mail del Responsabile della protezione dei dati"), True, email=True
    ),
)


@dataclass(frozen=True)
class ControllerDetails:
    values: dict[str, str]

    @property
    def missing(self) -> list[ControllerField]:
        """Required details not filled yet."""
        return [f for f in CONTROLLER_FIELDS if f.required and not self.values.get(f.key)]

    @property
    def complete(self) -> bool:
        return not self.missing

    def rows(self) -> list[tuple[ControllerField, str]]:
        return [(f, self.values.get(f.key, "")) for f in CONTROLLER_FIELDS]


def controller_details(session: Session) -> ControllerDetails:
    keys = [CONTROLLER_PREFIX + f.key for f in CONTROLLER_FIELDS]
    found = {
        s.key.removeprefix(CONTROLLER_PREFIX): s.value.strip()
        for s in session.scalars(select(Setting).where(Setting.key.in_(keys)))
    }
    return ControllerDetails({k: v for k, v in found.items() if v})


def save_controller_details(session: Session, values: dict[str, str], *, actor: User) -> None:
    """Store the details (blank ones too: clearing a value is allowed) and audit it."""
    from lms.settings import set_setting

    changed = []
    current = controller_details(session).values
    for f in CONTROLLER_FIELDS:
        value = (values.get(f.key) or "").strip()
        if value != current.get(f.key, ""):
            set_setting(session, CONTROLLER_PREFIX + f.key, value, by_id=actor.id)
            changed.append(f.key)
    if changed:
        audit.record(
            session,
            "privacy.controller_changed",
            actor=actor,
            details={"fields": ", ".join(changed)},
        )
    session.flush()
