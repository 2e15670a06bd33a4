"""Single sign-on's personal data: exported with the person's, deleted on erasure."""

from __future__ import annotations

from sqlalchemy import select

from lms import db
from lms.sso import privacy
from lms.sso.models import OIDCIdentity


def test_export_and_erase_the_linked_identities(make_user, make_provider):
    user = make_user()
    provider = make_provider()
    db.session.add(
        OIDCIdentity(provider_id=provider.id, subject="TINIT-SOGGETTO-DI-PROVA", user_id=user.id)
    )
    db.session.commit()

    exported = privacy.export(db.session, user.id)["sso_identities"]
    assert [(e["provider"], e["subject"]) for e in exported] == [
        ("rete", "TINIT-SOGGETTO-DI-PROVA")
    ]

    privacy.erase(db.session, user.id)
    db.session.commit()
    assert db.session.scalars(select(OIDCIdentity)).all() == []
    assert privacy.PROVIDER.tables == {"lms_oidc_identity"}
