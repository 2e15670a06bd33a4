"""Staff matrix exports of large organisations are written by a worker (issue 21):
above LMS_COMMITMENTS_EXPORT_INLINE_MAX_STAFF the request returns the job's page at
once, and the file is downloaded from it; smaller organisations get the file directly."""

from __future__ import annotations

import io
import re

import openpyxl
from flask import Flask

from lms import db
from lms.organisations.services import organisation_by_code
from tests.conftest import login


def test_a_large_organisation_s_export_comes_from_a_job(app: Flask, make_user):
    referent = make_user(org="CDM-PL-NTDM", referent=True)
    for n in range(3):
        make_user(org="CDM-PL-NTDM", name=f"Agente Esporta {n}")
    db.session.commit()
    org = organisation_by_code(db.session, "CDM-PL-NTDM").id
    client = app.test_client()
    login(client, referent.email)
    url = f"/commitments/organisations/{org}/export.xlsx"

    direct = client.get(url)
    assert direct.status_code == 200 and direct.mimetype.endswith("sheet")

    previous = app.config.get("LMS_COMMITMENTS_EXPORT_INLINE_MAX_STAFF")
    app.config["LMS_COMMITMENTS_EXPORT_INLINE_MAX_STAFF"] = 2
    try:
        asked = client.get(url)
    finally:
        app.config["LMS_COMMITMENTS_EXPORT_INLINE_MAX_STAFF"] = previous
    assert asked.status_code == 302 and "/jobs/" in asked.headers["Location"]
    page = client.get(asked.headers["Location"])
    assert "Esportazione pronta" in page.text
    link = re.search(r'href="(/jobs/\d+/download)"', page.text).group(1)
    download = client.get(link)
    data = download.get_data()
    download.close()
    def shape(raw: bytes) -> list[tuple[str, int]]:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        return [(sheet.title, sum(1 for _ in sheet.iter_rows())) for sheet in book.worksheets]

    assert shape(data) == shape(direct.get_data())  # the same workbook, from the worker
