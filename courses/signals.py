"""Signals the courses plugin sends; receivers run inside the sender's transaction.

Sent with ``sender=app`` (``lms.signals.send``): connect with ``sender=app`` in
``init_app``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from blinker import Namespace

_signals = Namespace()

#: sent with ``session`` and ``version`` (a CourseVersion just published)
version_published = _signals.signal("courses-version-published")
#: sent with ``session``, ``version``, ``user_id``, ``course_id``, ``module_slug`` when a
#: module completes
module_completed = _signals.signal("courses-module-completed")
#: sent with ``session`` and ``changes`` (:class:`LearningChanges`) where enrolments, module
#: progress or course completions are written, in the writing transaction
learning_changed = _signals.signal("courses-learning-changed")


@dataclass(frozen=True)
class LearningChanges:
    """Whose enrolments, module progress or course completions changed.

    ``courses`` maps each person to the courses whose rows changed. For the people in
    ``activity_only`` only a first visit to a module was written: it adds a fact and
    removes none. ``everyone``: rows were loaded around the services (a bulk load),
    naming nobody; receivers recompute whatever they derive from all of them.
    """

    courses: Mapping[int, frozenset[int]] = field(default_factory=dict)
    activity_only: frozenset[int] = frozenset()
    everyone: bool = False

    @classmethod
    def of(cls, user_id: int, course_id: int, *, activity_only: bool = False) -> LearningChanges:
        return cls({user_id: frozenset({course_id})}, frozenset({user_id} if activity_only else ()))

#: sent with ``session``, ``enrolment`` (an Enrolment just made or renewed), ``version`` and
#: ``by_id`` (who enrolled the person: None or their own id when they enrolled themself)
enrolled = _signals.signal("courses-enrolled")
