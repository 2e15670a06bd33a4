"""Organisations of the network, professional audiences, and memberships."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.accounts.models import User
from lms.db import Base, UTCDateTime


class OrganisationType(enum.StrEnum):
    """The signatory groups of the Protocollo Milano (DOMAIN.md)."""

    COMUNE = "comune"
    CAV = "cav"  # centri antiviolenza e case rifugio
    MAGISTRATURA = "magistratura"
    FORZE_ORDINE = "forze_ordine"
    SOCIOSANITARIO = "sociosanitario"
    ALTRO = "altro"


UNIT_PATH_LENGTH = 400  # ids of the ancestors: a tree far deeper than any organisation's
_TYPE_VALUES = ", ".join(f"'{t.value}'" for t in OrganisationType)


class Organisation(Base):
    __tablename__ = "lms_organisation"
    __table_args__ = (CheckConstraint(f"type IN ({_TYPE_VALUES})", name="type_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(20), index=True)
    signatory: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class OrganisationUnit(Base):
    """A unit inside an organisation (a school of the Ufficio Scolastico, a hospital of an
    ASST, a command of the Polizia Locale), in a tree of any depth.

    ``path`` lists the ids from the root to the unit itself ("/4/9/"), so that a subtree
    is one prefix match and a move rewrites the paths below it. Closed units keep their
    history (memberships point at them) and take no new people.
    """

    __tablename__ = "lms_org_unit"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="RESTRICT"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_org_unit.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(UNIT_PATH_LENGTH), index=True, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        return f"<OrganisationUnit {self.id} {self.path}>"


class Audience(Base):
    """A professional role that courses and commitments target."""

    __tablename__ = "lms_audience"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_it: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_it

    def __repr__(self) -> str:
        return f"<Audience {self.code}>"


class Membership(Base):
    """A person's place in an organisation; ``ended_at`` keeps history on removal."""

    __tablename__ = "lms_membership"
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="uq_lms_membership_user_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("lms_organisation.id", ondelete="RESTRICT"), index=True
    )
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("lms_audience.id", ondelete="RESTRICT"), index=True
    )
    # Where in the organisation the person works; None: the organisation as a whole. A
    # referent with a unit follows that unit and the units below it only.
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_org_unit.id", ondelete="RESTRICT"), index=True
    )
    is_referent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
    audience: Mapped[Audience] = relationship()
    unit: Mapped[OrganisationUnit | None] = relationship()

    @property
    def is_current(self) -> bool:
        return self.ended_at is None
