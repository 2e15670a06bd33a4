"""The small helpers every feature shares, kept in the core once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask_login import login_user
from werkzeug.http import parse_options_header

from lms.authz import current_person
from lms.dates import add_months
from lms.downloads import attachment
from lms.forms import ActionForm

UTC = dt.UTC


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.datetime(2024, 1, 31, tzinfo=UTC), 1, dt.datetime(2024, 2, 29, tzinfo=UTC)),
        (dt.datetime(2023, 1, 31, tzinfo=UTC), 1, dt.datetime(2023, 2, 28, tzinfo=UTC)),
        (dt.datetime(2024, 1, 31, tzinfo=UTC), 12, dt.datetime(2025, 1, 31, tzinfo=UTC)),
        (dt.datetime(2024, 1, 31, tzinfo=UTC), 25, dt.datetime(2026, 2, 28, tzinfo=UTC)),
        (dt.datetime(2023, 11, 22, tzinfo=UTC), 36, dt.datetime(2026, 11, 22, tzinfo=UTC)),
        (dt.datetime(2024, 12, 15, tzinfo=UTC), 1, dt.datetime(2025, 1, 15, tzinfo=UTC)),
        (dt.datetime(2024, 3, 31, tzinfo=UTC), 0, dt.datetime(2024, 3, 31, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(
    start: dt.datetime, months: int, expected: dt.datetime
):
    assert add_months(start, months) == expected


def test_add_months_keeps_the_time_of_day_and_zone():
    start = dt.datetime(2024, 8, 31, 23, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    later = add_months(start, 1)
    assert later == dt.datetime(2024, 9, 30, 23, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert later.utcoffset() == dt.timedelta(hours=2)


def test_current_person_is_the_user_not_the_proxy(app: Flask, make_user: Any):
    from lms.accounts.models import User

    user = make_user()
    with app.test_request_context("/"):
        login_user(user)
        person = current_person()
        assert type(person) is User and person.id == user.id


def test_current_person_refuses_anonymous_visitors(app: Flask):
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        current_person()


def test_action_form_holds_only_the_csrf_token(app: Flask):
    with app.test_request_context("/", method="POST", data={}):
        form = ActionForm()
        assert [field.name for field in form] == ["csrf_token"]
        assert not form.validate_on_submit()


def _disposition(response: Any) -> tuple[str, dict[str, str]]:
    return parse_options_header(response.headers["Content-Disposition"])


def test_attachment_ascii_name(app: Flask):
    with app.test_request_context("/"):
        response = attachment(b"%PDF-", "attestato-12.pdf", "application/pdf")
    assert response.headers["Content-Disposition"] == "attachment; filename=attestato-12.pdf"
    assert response.mimetype == "application/pdf"
    assert response.get_data() == b"%PDF-"


def test_attachment_name_with_quotes_and_semicolons_stays_one_name(app: Flask):
    name = 'a"b; filename=evil.exe.csv'
    with app.test_request_context("/"):
        response = attachment("x", name, "text/csv")
    kind, options = _disposition(response)
    assert kind == "attachment" and options == {"filename": name}
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_attachment_non_ascii_name_has_a_utf8_form_and_an_ascii_fallback(app: Flask):
    name = "incontri-Città-–-già.csv"
    with app.test_request_context("/"):
        response = attachment("x", name, "text/csv")
    header = response.headers["Content-Disposition"]
    assert header.isascii()
    assert "filename=incontri-Citta--gia.csv;" in header
    assert "filename*=UTF-8''incontri-Citt%C3%A0-%E2%80%93-gi%C3%A0.csv" in header
    assert _disposition(response)[1]["filename"] == name


def test_attachment_inline_and_streamed(app: Flask):
    def chunks() -> Any:
        yield b"PK"
        yield b"\x03\x04"

    with app.test_request_context("/"):
        shown = attachment(b"%PDF-", "foglio.pdf", "application/pdf", inline=True)
        streamed = attachment(chunks(), "attestati.zip", "application/zip")
    assert _disposition(shown) == ("inline", {"filename": "foglio.pdf"})
    assert streamed.is_streamed and streamed.get_data() == b"PK\x03\x04"
