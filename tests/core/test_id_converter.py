"""``<id:...>``: database ids in URLs, 1 to ``MAX_ID``; a host's own converters untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import BaseConverter, Map, Rule

from lms import LMS
from lms.urls import MAX_ID, IdConverter, parse_id


def _match(path: str) -> int | None:
    urls = Map([Rule("/x/<id:value>", endpoint="x")], converters={"id": IdConverter})
    adapter = urls.bind("localhost")
    try:
        return adapter.match(path)[1]["value"]
    except Exception:
        return None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("1", 1),
        ("987654", 987654),
        (str(MAX_ID), MAX_ID),
        ("0", None),
        ("-1", None),
        ("+1", None),
        (str(MAX_ID + 1), None),
        (str(2**63 - 1), None),
        (str(2**63), None),
        (str(2**64), None),
        ("9" * 5000, None),
        ("%D9%A1%D9%A2", None),  # Arabic-Indic digits: int() would read 12
        ("1.0", None),
        ("1e3", None),
    ],
)
def test_id_converter_bounds(path: str, expected: int | None):
    assert _match(f"/x/{path}") == expected


def test_no_id_column_is_wider_than_the_urls_allow(app: Flask):
    """``MAX_ID`` is the largest value of a PostgreSQL ``INTEGER``: a ``BigInteger`` id
    would need a larger bound (and SQLite's 2**63 - 1 would then be the limit)."""
    from sqlalchemy import BigInteger, Integer

    from lms.db import Base

    assert MAX_ID == 2**31 - 1
    wide = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if (column.primary_key or column.foreign_keys)
        and isinstance(column.type, Integer)
        and isinstance(column.type, BigInteger)
    ]
    assert not wide, f"64-bit id columns: raise lms.urls.MAX_ID to 2**63 - 1 for {wide}"


def test_parse_id_for_query_strings_and_fields():
    assert [parse_id(v) for v in ("7", "007", str(MAX_ID))] == [7, 7, MAX_ID]
    for value in (None, "", "0", "-1", "²", "12a", str(MAX_ID + 1), "9" * 5000):
        assert parse_id(value) is None, value


def _mount(host: Flask, app: Flask, tmp_path: Path) -> None:
    LMS().init_app(
        host,
        url_prefix="/formazione",
        config={
            "LMS_DATABASE_URL": app.config["LMS_DATABASE_URL"],
            "LMS_LOG_JSON": False,
            "LMS_BASE_URL": "http://host.test",
            "LMS_MAIL_BACKEND": "file",
            "LMS_MAIL_FILE_DIR": str(tmp_path),
        },
    )
    host.extensions["lms"].engine = app.extensions["lms"].engine


def test_a_host_keeps_its_int_converter(app: Flask, tmp_path: Path):
    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)

    @host.route("/page/<int:number>")
    def host_page(number: int) -> str:
        return f"page {number}"

    _mount(host, app, tmp_path)
    client = host.test_client()
    assert client.get("/page/0").get_data(as_text=True) == "page 0"
    assert client.get(f"/page/{2**64}").get_data(as_text=True) == f"page {2**64}"
    assert client.get("/formazione/organisations/0/").status_code == 404
    assert client.get(f"/formazione/organisations/{2**63}/").status_code == 404


def test_a_host_with_its_own_id_converter_is_told(app: Flask, tmp_path: Path):
    class HostId(BaseConverter):
        regex = "[a-f0-9]{32}"

    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)
    host.url_map.converters["id"] = HostId
    with pytest.raises(RuntimeError, match="converter named 'id'"):
        _mount(host, app, tmp_path)
