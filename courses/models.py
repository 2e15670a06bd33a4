"""Courses, their versions and modules, enrolments and progress.

A course (stable slug) has versions: at most one draft and any number of
published versions, which are immutable. Progress is keyed by module slug, so
it carries over when a new version keeps the module. ``cycle`` counts renewals:
starting a renewal opens a new cycle with fresh progress, keeping the old rows.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.accounts.models import User
from lms.db import Base, UTCDateTime
from lms.organisations.models import Audience


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Course(Base):
    __tablename__ = "courses_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    owners: Mapped[list[CourseOwner]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )
    coauthors: Mapped[list[CourseCoauthor]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class CourseOwner(Base):
    """Trainers who may author a course (admins always may)."""

    __tablename__ = "courses_owner"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id", name="uq_courses_owner_course_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)

    course: Mapped[Course] = relationship(back_populates="owners")
    user: Mapped[User] = relationship()


class CourseCoauthor(Base):
    """Trainers an owner added to write and publish a course with them (issue 17).

    Co-authors edit and publish like owners; only owners (and admins) add or remove them,
    so a course cannot be taken away from the people who own it.
    """

    __tablename__ = "courses_coauthor"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id", name="uq_courses_coauthor_course_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    course: Mapped[Course] = relationship(back_populates="coauthors")
    user: Mapped[User] = relationship()


version_audience = Table(
    "courses_version_audience",
    Base.metadata,
    Column("version_id", ForeignKey("courses_version.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "audience_id",
        ForeignKey("lms_audience.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class CourseVersion(Base):
    __tablename__ = "courses_version"
    __table_args__ = (
        UniqueConstraint("course_id", "number", name="uq_courses_version_course_number"),
        CheckConstraint("status IN ('draft', 'published')", name="status_known"),
        CheckConstraint(
            "(status = 'draft' AND number IS NULL) "
            "OR (status = 'published' AND number IS NOT NULL)",
            name="number_iff_published",
        ),
        Index(
            "uq_courses_version_one_draft",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    number: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    all_audiences: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Declared hours, at most the computed duration + 50 % (courses.durations); 0 = none
    # declared. Not NULL: on SQLite, making the column nullable means rebuilding the
    # table, whose drop cascades to every row that references it.
    estimated_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=0)
    # Sum of the modules' computed minutes (courses.durations), stored at import.
    computed_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(5), default="it")
    renewal_months: Mapped[int | None] = mapped_column(Integer)
    # The evidence profile as declared in course.md (courses.evidence): a built-in's
    # name or adjusted rules; None: the installation's LMS_EVIDENCE_PROFILE.
    evidence: Mapped[Any] = mapped_column(JSON, nullable=True)
    # The accreditation as declared (courses.accreditation), None if not accredited.
    accreditation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    self_enrolment: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Readable by anyone without an account and without tracking (courses.public).
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    intro_md: Mapped[str] = mapped_column(Text, default="")
    # course.md's front matter as the author wrote it (comments, quotes, key order), so
    # that export and the editor give it back unchanged; None: written before 0015.
    front_matter: Mapped[str | None] = mapped_column(Text, nullable=True)
    intro_html: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )

    course: Mapped[Course] = relationship()
    audiences: Mapped[list[Audience]] = relationship(secondary=version_audience)
    modules: Mapped[list[Module]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Module.position"
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="version", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class Module(Base):
    __tablename__ = "courses_module"
    __table_args__ = (
        UniqueConstraint("version_id", "slug", name="uq_courses_module_version_slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_version.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    # Declared minutes, at most the computed duration + 50 % (courses.durations); 0 = none
    # declared (not NULL for the same reason as CourseVersion.estimated_hours).
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Minutes the ECM rule gives the lesson (courses.durations), computed at import.
    computed_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The module's Markdown as written, plugins' blocks included (export gives it back as is).
    body_md: Mapped[str] = mapped_column(Text)
    # The module file's front matter as written (see CourseVersion.front_matter).
    front_matter: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Sanitised lesson HTML (plugins' blocks removed), rendered once per saved version.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Holds a plugin's block that decides its completion (the column keeps its first name).
    completed_by_block: Mapped[bool] = mapped_column(
        "has_quiz", Boolean, default=False, server_default=false()
    )

    version: Mapped[CourseVersion] = relationship(back_populates="modules")

    @property
    def filename(self) -> str:
        return f"{self.position:02d}-{self.slug}.md"


class Asset(Base):
    """An image or attachment of a course version, stored with it."""

    __tablename__ = "courses_asset"
    __table_args__ = (UniqueConstraint("version_id", "path", name="uq_courses_asset_version_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("courses_version.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(80))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    version: Mapped[CourseVersion] = relationship(back_populates="assets")


class EnrolmentSource(enum.StrEnum):
    SELF = "self"
    REFERENT = "referent"
    ADMIN = "admin"


class Enrolment(Base):
    """A person's enrolment; unenrolment sets ``ended_at`` and keeps the row."""

    __tablename__ = "courses_enrolment"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="uq_courses_enrolment_user_course"),
        CheckConstraint("source IN ('self', 'referent', 'admin')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(12))
    enrolled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    enrolled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_module_slug: Mapped[str | None] = mapped_column(String(80))

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ProgressStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ModuleProgress(Base):
    __tablename__ = "courses_module_progress"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "course_id", "cycle", "module_slug", name="uq_courses_module_progress_key"
        ),
        CheckConstraint("status IN ('in_progress', 'completed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True
    )
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    module_slug: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12), default=ProgressStatus.IN_PROGRESS)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_version_number: Mapped[int | None] = mapped_column(Integer)
    time_spent_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CourseCompletion(Base):
    """One completion per person, course and cycle; it names the version completed."""

    __tablename__ = "courses_completion"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "cycle", name="uq_courses_completion_cycle"),
        Index("ix_courses_completion_course_user", "course_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses_course.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("courses_version.id", ondelete="RESTRICT"))
    cycle: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The evidence profile the completion satisfied ("legacy": made before profiles).
    evidence: Mapped[str] = mapped_column(String(40), default="", server_default="legacy")
    # Time tracked on the cycle's modules when it completed.
    tracked_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    version: Mapped[CourseVersion] = relationship()
    course: Mapped[Course] = relationship()


class StudyClock(Base):
    """When a person's last heartbeat was credited: one clock per person, whatever the
    tab or module, so that pages pinging at once earn real time once (courses.study)."""

    __tablename__ = "courses_study_clock"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )
    last_beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
