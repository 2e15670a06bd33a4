"""A person's place in the unit tree and their unit referent role, changed together."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lms import audit
from lms.accounts.models import User
from lms.organisations.models import Membership, OrganisationUnit
from lms.organisations.units import place_member


def place_person(
    session: Session,
    membership: Membership,
    unit: OrganisationUnit | None,
    *,
    referent: bool | None = None,
    actor: User | None = None,
) -> None:
    """Put the person in ``unit`` (None: the organisation as a whole) and, unless
    ``referent`` is None, make them referent of it or not. A referent without a unit is
    a referent of the whole organisation: the caller decides who may grant that."""
    place_member(session, membership, unit, actor=actor)
    if referent is None or referent == membership.is_referent:
        return
    membership.is_referent = referent
    session.flush()
    audit.record(
        session,
        "organisations.referent_changed",
        actor=actor,
        organisation_id=membership.organisation_id,
        object_type="membership",
        object_id=membership.id,
        subject_id=membership.user_id,
        details={"referent": referent, "unit_id": membership.unit_id},
    )
