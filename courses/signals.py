"""Signals the courses plugin sends; receivers run inside the sender's transaction.

Sent with ``sender=app`` (``lms.signals.sender()``): connect with ``sender=app`` in
``init_app``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent with ``session`` and ``version`` (a CourseVersion just published)
version_published = _signals.signal("courses-version-published")
#: sent with ``session``, ``version``, ``user_id``, ``course_id``, ``module_slug`` when a
#: module completes
module_completed = _signals.signal("courses-module-completed")
#: sent with ``session`` and ``changes`` (:class:`LearningChanges`) whenever enrolments,
#: module progress or course completions were written, before the rows are flushed
learning_changed = _signals.signal("courses-learning-changed")
