"""Course packs shipped by an installed Python package (entry point ``lms.course_packs``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from flask import Flask

from courses import authoring, packaging
from courses.packs import discover_packs
from lms import db
from tests.courses.helpers import course_files


@pytest.fixture
def installed_pack(tmp_path: Path):
    package = tmp_path / "tinypack"
    package.mkdir()
    packaging.write_folder(course_files(slug="corso-dal-pacchetto"), package / "courses" / "uno")
    (package / "__init__.py").write_text(
        "from pathlib import Path\nCOURSES = Path(__file__).parent / 'courses'\n"
    )
    dist = tmp_path / "tinypack-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tinypack\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[lms.course_packs]\ntinypack = tinypack:COURSES\n")
    sys.path.insert(0, str(tmp_path))
    yield package / "courses"
    sys.path.remove(str(tmp_path))
    sys.modules.pop("tinypack", None)


def test_pack_is_discovered_and_imported(installed_pack: Path, app: Flask):
    assert discover_packs()["tinypack"] == installed_pack
    result = app.test_cli_runner().invoke(args=["lms", "courses", "import-packs", "--publish"])
    assert result.exit_code == 0, result.output
    assert "tinypack: corso-dal-pacchetto" in result.output
    db.session.expire_all()
    course = authoring.get_course(db.session, "corso-dal-pacchetto")
    assert authoring.latest_published(db.session, course.id).number == 1
