"""The Europass-ready export: a certificate's data in ELM fields (JSON), not sealed.

Its routes join ``certificates.blueprint.bp`` (imported by the plugin's ``blueprint()``).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from certificates import europass
from certificates.blueprint import bp
from certificates.config import verify_url
from certificates.models import Certificate
from lms import db
from lms.authz import authenticated
from lms.downloads import attachment
from lms.errors import ServiceError


@bp.route("/<id:cert_id>/europass.json")
@authenticated
def europass_export(cert_id: int) -> Any:
    """Own certificates only (admins: any); others get 404, not a hint. A revoked one is
    not exported: it must not become a sealed credential."""
    cert = db.session.get(Certificate, cert_id)
    if cert is None or (cert.user_id != current_user.id and not current_user.is_admin):
        abort(404)
    if cert.revoked_at is not None:
        raise ServiceError(_("Un attestato revocato non si esporta per Europass."))
    return attachment(
        europass.credential_json(cert, verify_url(cert.code)),
        europass.filename(cert),
        "application/ld+json",
    )
