"""The default privacy notice is a Markdown file among the templates, shown and edited as before."""

from __future__ import annotations

import html
import re
from pathlib import Path

from flask import Flask

import lms
from lms.accounts.models import Role
from tests.conftest import login

NOTICE = Path(lms.__file__).parent / "templates" / "lms" / "privacy_notice.md"


def test_default_notice_is_rendered_from_its_file(app: Flask):
    from lms.rendering import render_markdown

    text = NOTICE.read_text(encoding="utf-8")
    assert "## Titolare del trattamento" in text and "## Cookie" in text
    with app.app_context():
        expected = render_markdown(text)
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert expected in page and ">Titolare del trattamento</h" in page


def test_admin_editor_starts_from_the_file_text(app: Flask, make_user):
    admin = make_user(roles=(Role.ADMIN,))
    client = app.test_client()
    login(client, admin.email)
    page = client.get("/admin/privacy").get_data(as_text=True)
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.DOTALL)
    assert found is not None
    shown = html.unescape(found.group(1)).removeprefix("\r\n")
    assert shown == NOTICE.read_text(encoding="utf-8")
