"""Personal data held by single sign-on: the identities linked to a person (their
subject at each provider, a fiscal number for SPID and CIE through a gateway).

``PROVIDER`` is for ``lms.privacy.providers()``: the export lists the links, erasure
deletes them (an erased account must not be reachable through a provider any more).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.plugins import PrivacyProvider
from lms.sso.models import OIDCIdentity, OIDCProvider


def export(session: Session, user_id: int) -> dict[str, Any]:
    rows = session.execute(
        select(OIDCIdentity, OIDCProvider.slug)
        .join(OIDCProvider, OIDCProvider.id == OIDCIdentity.provider_id)
        .where(OIDCIdentity.user_id == user_id)
        .order_by(OIDCIdentity.id)
    )
    return {
        "sso_identities": [
            {
                "provider": slug,
                "subject": identity.subject,
                "linked_at": identity.created_at.isoformat(),
                "last_login_at": identity.last_login_at.isoformat()
                if identity.last_login_at
                else None,
            }
            for identity, slug in rows
        ]
    }


def erase(session: Session, user_id: int) -> None:
    session.execute(delete(OIDCIdentity).where(OIDCIdentity.user_id == user_id))


PROVIDER = PrivacyProvider(tables=frozenset({"lms_oidc_identity"}), export=export, erase=erase)
