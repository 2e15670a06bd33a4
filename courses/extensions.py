"""What other plugins add to courses: extension points filled per app in ``init_app``.

A plugin registers with ``registry(FENCED_BLOCKS, app).add(name, FencedBlock(...))``;
courses asks ``registry(FENCED_BLOCKS)`` of the current app, so it knows no plugin by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lms.plugins import ExtensionPoint

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from courses.evidence import EvidenceProfile
    from courses.models import CourseVersion
    from lms.errors import FormatIssue


@dataclass(frozen=True)
class BlockAssessment:
    """A block measured against a course's evidence profile, on import.

    ``issues``: what the profile refuses in the block, located in the module file;
    ``questions_per_attempt``: the questions it puts to the learner in each attempt (0: it
    is not a test), which courses adds up for the profile's course-wide rules (a final
    test, questions per credit).
    """

    issues: tuple[FormatIssue, ...] = ()
    questions_per_attempt: int = 0


@dataclass(frozen=True)
class FencedBlock:
    """A fenced block (```name ... ```) inside a module, owned by a plugin.

    The first such block is cut out of the lesson before rendering and checked with
    ``validate`` on import; a module may hold one block of each name. ``assess``, if
    given, measures a valid block against the course's evidence profile (``None`` when the
    block cannot be read: ``validate`` says why). With
    ``completion_message`` the block decides the module's completion: the module
    completes only through the plugin (``complete_module(..., by_block=True)``), and a
    manual completion is refused with this message. ``label`` is shown beside such a
    module in the course page, ``template`` replaces the "mark as complete" button.
    """

    name: str
    #: (block source, module file, the block's first line in the file) -> problems
    validate: Callable[[str, str, int], list[FormatIssue]] | None = None
    #: (block source, module file, first line, the course's profile) -> its assessment
    assess: Callable[[str, str, int, EvidenceProfile], BlockAssessment | None] | None = None
    completion_message: Any = None  # a lazy string
    label: Any = None  # a lazy string
    template: str | None = None


#: A condition on a course's completion beyond its modules (e.g. attendance of a required
#: session): called with the session, the person's id and the version.
CompletionRequirement = Callable[["Session", int, "CourseVersion"], bool]

FENCED_BLOCKS: ExtensionPoint[FencedBlock] = ExtensionPoint("courses.fenced_blocks")
COMPLETION_REQUIREMENTS: ExtensionPoint[CompletionRequirement] = ExtensionPoint(
    "courses.completion_requirements"
)
