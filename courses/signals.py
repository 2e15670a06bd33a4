"""Signals the courses plugin sends; receivers run inside the sender's transaction."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent with ``session`` and ``version`` (a CourseVersion just published)
version_published = _signals.signal("courses-version-published")
#: sent with ``session``, ``user_id``, ``course_id``, ``module_slug`` when a module completes
module_completed = _signals.signal("courses-module-completed")
