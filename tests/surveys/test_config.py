"""The questionnaire follows the course's evidence profile; the old installation switch is
refused when the app starts rather than silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_test_app


def test_the_removed_setting_stops_the_app_and_names_what_replaced_it(tmp_path: Path):
    with pytest.raises(RuntimeError, match="LMS_SURVEY_REQUIRED was removed.*survey_required"):
        make_test_app(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", LMS_SURVEY_REQUIRED=False)
