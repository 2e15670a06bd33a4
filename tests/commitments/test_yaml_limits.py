"""Hostile YAML in a commitments file (issue 16, point 2): service, command line, browser."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from commitments.manage import definitions
from commitments.models import Commitment
from lms import db
from lms.accounts.models import Role
from lms.errors import FormatError
from tests.conftest import login, post_form
from tests.core.yaml_attacks import ATTACKS

EMPTY = "commitments: []\n"


@pytest.mark.parametrize("attack", ATTACKS)
def test_import_refuses_with_file_line_and_reason(ctx, attack: str):
    source, reason = ATTACKS[attack]
    with pytest.raises(FormatError) as caught:
        definitions.import_yaml(db.session, source + EMPTY, filename="impegni.yaml")
    issue = caught.value.issues[0]
    assert reason in issue.message, [str(i) for i in caught.value.issues]
    assert issue.file == "impegni.yaml" and issue.line is not None


@pytest.mark.parametrize("attack", ATTACKS)
def test_cli_import_says_why_and_exits_1_without_traceback(app, tmp_path, attack: str):
    source, reason = ATTACKS[attack]
    path = tmp_path / "impegni.yaml"
    path.write_text(source + EMPTY, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["lms", "commitments", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "impegni.yaml:" in result.output and reason in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("attack", ATTACKS)
def test_browser_upload_answers_422_with_the_reason(app, make_user, attack: str):
    source, reason = ATTACKS[attack]
    with app.app_context():
        coordinator = make_user(roles=(Role.COORDINATOR,))
    client = app.test_client()
    login(client, coordinator.email)
    response = post_form(
        client,
        "/commitments/manage/",
        {"file": (io.BytesIO((source + EMPTY).encode()), "impegni.yaml")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Importazione annullata" in html
    assert "impegni.yaml:" in html and reason in html
    with app.app_context():
        assert db.session.scalar(select(Commitment.id)) is None
