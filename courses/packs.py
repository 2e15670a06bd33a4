"""Course packs from installed Python packages.

A package ships courses by declaring an entry point in the ``lms.course_packs``
group that names a folder (a path, or a callable returning one) containing
course folders::

    [project.entry-points."lms.course_packs"]
    formazione-extra = "formazione_extra:COURSES_DIR"
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

PACK_GROUP = "lms.course_packs"


def discover_packs() -> dict[str, Path]:
    packs: dict[str, Path] = {}
    for ep in entry_points(group=PACK_GROUP):
        target = ep.load()
        folder = Path(target() if callable(target) else target)
        if folder.is_dir():
            packs[ep.name] = folder
    return dict(sorted(packs.items()))
