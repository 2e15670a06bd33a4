"""Courses' public face: the only module other plugins import, so the rest can change freely."""

from __future__ import annotations

from courses.accreditation import Accreditation, accreditation_of
from courses.authoring import authored_courses, can_author, get_course
from courses.catalogue import (
    catalogue,
    find_module,
    latest_versions_query,
    published_version,
    user_audience_codes,
)
from courses.durations import course_hours, course_minutes, module_minutes
from courses.enrolment import active_enrolment, enrol, enrol_many, enrol_members
from courses.evidence import LEGACY, EvidenceProfile, evidence_of, minimum_study_seconds
from courses.extensions import (
    COMPLETION_REQUIREMENTS,
    FENCED_BLOCKS,
    BlockAssessment,
    CompletionRequirement,
    FencedBlock,
)
from courses.format import split_block
from courses.models import (
    Course,
    CourseCompletion,
    CourseVersion,
    Enrolment,
    EnrolmentSource,
    Module,
    ModuleProgress,
    ProgressStatus,
)
from courses.progress import (
    check_completion,
    complete_module,
    require_access,
    require_module_access,
    study_remaining_seconds,
    study_seconds,
    tracked_seconds,
)
from courses.signals import (
    LearningChanges,
    enrolled,
    learning_changed,
    module_completed,
    version_published,
)
from courses.study import StudyTime

__all__ = [
    # models
    "Course",
    "CourseCompletion",
    "CourseVersion",
    "Enrolment",
    "Module",
    "ModuleProgress",
    "ProgressStatus",
    # extension points and fenced blocks
    "COMPLETION_REQUIREMENTS",
    "FENCED_BLOCKS",
    "BlockAssessment",
    "CompletionRequirement",
    "FencedBlock",
    "split_block",
    # durations (declared when present, else computed from the content)
    "course_hours",
    "course_minutes",
    "module_minutes",
    # evidence profiles and accreditation
    "LEGACY",
    "Accreditation",
    "EvidenceProfile",
    "accreditation_of",
    "evidence_of",
    # time on task (tracked by the module page's heartbeats, bounded by the server)
    "StudyTime",
    "minimum_study_seconds",
    "study_remaining_seconds",
    "study_seconds",
    "tracked_seconds",
    # signals
    "LearningChanges",
    "learning_changed",
    "module_completed",
    "version_published",
    "enrolled",
    "enrol",
    "EnrolmentSource",
    # catalogue
    "catalogue",
    "find_module",
    "latest_versions_query",
    "published_version",
    "user_audience_codes",
    # enrolment
    "active_enrolment",
    "enrol_many",
    "enrol_members",
    # progress
    "check_completion",
    "complete_module",
    "require_access",
    "require_module_access",
    # authoring
    "authored_courses",
    "can_author",
    "get_course",
]
