"""Shared set-up of the registration tests: a rule, a unit tree, audiences."""

from __future__ import annotations

from lms import db
from lms.organisations.models import Audience, Organisation, OrganisationUnit
from lms.organisations.services import audience_by_code, organisation_by_code
from lms.organisations.units import create_unit
from lms.registration import services
from lms.registration.models import RegistrationRule

ORG = "CDM-PL-NTDM"
OTHER_ORG = "ASST-NIGUARDA"


def org(code: str = ORG) -> Organisation:
    return organisation_by_code(db.session, code)


def audience(code: str = "polizia_locale") -> Audience:
    return audience_by_code(db.session, code)


def open_rule(
    code: str = ORG,
    *,
    domains: tuple[str, ...] = (),
    auto: bool = False,
    join_code: str | None = None,
) -> RegistrationRule:
    rule = services.update_rule(
        db.session,
        org(code),
        enabled=True,
        domains=list(domains),
        auto_approve_domain=auto,
        join_code=join_code,
    )
    db.session.commit()
    return rule


def unit_tree(code: str = ORG) -> tuple[OrganisationUnit, OrganisationUnit, OrganisationUnit]:
    """A command with a sub-unit, and a second command: (north, north_child, south)."""
    organisation = org(code)
    north = create_unit(db.session, organisation, "Comando Nord")
    child = create_unit(db.session, organisation, "Nucleo Nord 1", parent=north)
    south = create_unit(db.session, organisation, "Comando Sud")
    db.session.commit()
    return north, child, south
