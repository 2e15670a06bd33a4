"""Courses' public face: the only module other plugins import, so the rest can change freely."""

from __future__ import annotations

from courses.authoring import authored_courses, can_author, get_course
from courses.extensions import (
    COMPLETION_REQUIREMENTS,
    FENCED_BLOCKS,
    CompletionRequirement,
    FencedBlock,
)
from courses.format import split_block
from courses.learning import (
    active_enrolment,
    catalogue,
    check_completion,
    complete_module,
    enrol_members,
    find_module,
    latest_versions_query,
    published_version,
    require_access,
    require_module_access,
    user_audience_codes,
)
from courses.models import (
    Course,
    CourseCompletion,
    CourseVersion,
    Enrolment,
    Module,
    ModuleProgress,
    ProgressStatus,
)
from courses.signals import LearningChanges, learning_changed, module_completed, version_published

__all__ = [
    "COMPLETION_REQUIREMENTS",
    "FENCED_BLOCKS",
    "CompletionRequirement",
    "FencedBlock",
    "LearningChanges",
    "learning_changed",
    "module_completed",
    "split_block",
    "Course",
    "CourseCompletion",
    "CourseVersion",
    "Enrolment",
    "Module",
    "ModuleProgress",
    "ProgressStatus",
    "active_enrolment",
    "authored_courses",
    "can_author",
    "catalogue",
    "check_completion",
    "complete_module",
    "enrol_members",
    "find_module",
    "get_course",
    "latest_versions_query",
    "published_version",
    "require_access",
    "require_module_access",
    "user_audience_codes",
    "version_published",
]
