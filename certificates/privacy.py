"""Personal data held by the certificates plugin (export, erasure).

Erasure keeps the rows (statistics still count certificates, and a scanned QR
code still answers) but removes the name everywhere, including the stored
signed payload, and revokes the certificates: the verify page then says
"revoked" and shows nobody. PDFs already handed out stay with their holder. The Open
Badges made of them (a salted hash of the e-mail, or the DID the person gave) are
deleted; the status list keeps saying "revoked" for them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from certificates.models import Certificate, OpenBadge
from lms import clock
from lms.plugins import PrivacyProvider

ERASED_NAME = "Persona cancellata"
ERASED_REASON = "erased"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, user_id: int) -> dict[str, Any]:
    certs = session.scalars(
        select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.id)
    )
    badges = session.execute(
        select(Certificate.serial, OpenBadge.subject_id, OpenBadge.created_at)
        .join(OpenBadge, OpenBadge.certificate_id == Certificate.id)
        .where(Certificate.user_id == user_id)
        .order_by(OpenBadge.id)
    )
    return {
        "open_badges": [
            {
                "certificate": serial,
                "subject": subject_id or "e-mail (impronta salata / salted hash)",
                "created_at": _iso(created_at),
            }
            for serial, subject_id, created_at in badges
        ],
        "certificates": [
            {
                "serial": c.serial,
                "holder_name": c.holder_name,
                "organisation": c.organisation_name,
                "kind": c.kind,
                "title": c.title,
                "version": c.version_label,
                "hours": c.printed_hours,
                "credits": c.credits,
                "tracked_seconds": c.tracked_seconds,
                "accreditation": c.accreditation,
                "completed_at": _iso(c.completed_at),
                "issued_at": _iso(c.issued_at),
                "expires_at": _iso(c.expires_at),
                "revoked_at": _iso(c.revoked_at),
                "revoked_reason": c.revoked_reason,
                "superseded_at": _iso(c.superseded_at),
            }
            for c in certs
        ],
    }


def erase(session: Session, user_id: int) -> None:
    now = clock.now()
    for cert in session.scalars(select(Certificate).where(Certificate.user_id == user_id)):
        cert.holder_name = ERASED_NAME
        cert.payload = "{}"  # the signed copy named the person; its signature goes with it
        cert.signature = ""
        if cert.revoked_at is None:
            cert.revoked_at = now
            cert.revoked_reason = ERASED_REASON
    session.execute(
        delete(OpenBadge).where(
            OpenBadge.certificate_id.in_(
                select(Certificate.id).where(Certificate.user_id == user_id)
            )
        )
    )
    session.execute(
        update(Certificate).where(Certificate.revoked_by_id == user_id).values(revoked_by_id=None)
    )
    session.flush()


PROVIDER = PrivacyProvider(
    tables=frozenset(
        {"certificates_certificate", "certificates_reminder_sent", "certificates_open_badge"}
    ),
    export=export,
    erase=erase,
)
