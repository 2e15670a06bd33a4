"""register_verified and admission: what single sign-on calls for a verified e-mail."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from lms import db
from lms.errors import ServiceError
from lms.organisations.models import Membership
from lms.registration import services
from tests.conftest import service_context
from tests.registration.helpers import OTHER_ORG, audience, open_rule, org, unit_tree


def _register(email: str, unit_id: int | None = None, code: str | None = None) -> object:
    return services.register_verified(
        db.session,
        email=email,
        full_name="Giulia Verdi",
        organisation_id=org(code or "CDM-PL-NTDM").id,
        unit_id=unit_id,
        audience_id=audience().id,
        source="sso:scuole",
    )


def test_closed_by_default(app: Flask) -> None:
    with service_context(app):
        assert services.admission(db.session, org(), "a@comune.milano.it") == "closed"
        with pytest.raises(ServiceError):
            _register("a@comune.milano.it")


def test_auto_when_the_domain_admits(app: Flask) -> None:
    with service_context(app):
        open_rule(domains=("comune.milano.it",), auto=True)
        north, _child, _south = unit_tree()
        assert services.admission(db.session, org(), "x@comune.milano.it") == "auto"
        assert services.admission(db.session, org(), "x@sub.comune.milano.it") == "closed"
        request = _register("Giulia@Comune.Milano.it", unit_id=north.id)
        assert request.status == "approved" and request.user_id is not None
        assert request.source == "sso:scuole" and request.password_hash is None
        member = db.session.scalar(select(Membership).where(Membership.user_id == request.user_id))
        assert member is not None and member.unit_id == north.id
        assert member.organisation_id == org().id


def test_referent_when_no_domain_rule(app: Flask) -> None:
    with service_context(app):
        open_rule()
        assert services.admission(db.session, org(), "x@gmail.com") == "referent"
        request = _register("x@gmail.com")
        assert request.status == "pending" and request.user_id is None
        again = _register("x@gmail.com")
        assert again.id == request.id  # one open request per address and organisation


def test_unit_of_another_organisation_refused(app: Flask) -> None:
    with service_context(app):
        open_rule()
        foreign, _c, _s = unit_tree(OTHER_ORG)
        with pytest.raises(ServiceError):
            _register("x@gmail.com", unit_id=foreign.id)
