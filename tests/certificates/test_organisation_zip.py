"""Referents: the organisation's current certificates, filtered, as a ZIP a worker
prepares (a job: the request returns at once, the job's page links the file)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

from flask import Flask

from certificates import issuing
from certificates.export import Entry, stream_zip
from lms import clock, db
from lms.accounts.models import Role
from lms.organisations.services import end_membership, organisation_by_code
from tests.certificates.conftest import pdf_text
from tests.conftest import login, post_form


def org_id(code: str) -> int:
    return organisation_by_code(db.session, code).id


def _archive(response) -> zipfile.ZipFile:  # noqa: ANN001
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.get_data()
    response.close()  # the file sent from the job's folder
    return zipfile.ZipFile(io.BytesIO(data))


def ask_zip(client, url: str):  # noqa: ANN001, ANN201
    """Ask for the archive as the page's button does; the job's page, once it is ready."""
    listing = url.split("certificates.zip")[0] + url.split("certificates.zip")[1]
    asked = post_form(client, url, {}, form_url=listing)
    assert asked.status_code == 302 and "/jobs/" in asked.headers["Location"]
    return client.get(asked.headers["Location"])


def download_zip(client, url: str):  # noqa: ANN001, ANN201
    """The archive behind the job page's download link."""
    page = ask_zip(client, url)
    assert page.status_code == 200 and "Archivio pronto" in page.text, page.text
    link = re.search(r'href="(/jobs/\d+/download)"', page.text)
    assert link, "no download link on the job's page"
    return client.get(link.group(1))


def test_referent_downloads_own_organisation_only(app: Flask, make_user, complete):
    referent_a = make_user(org="CDM-PL-NTDM", referent=True)
    referent_b = make_user(org="ASST-NIGUARDA", referent=True)
    agent = make_user(org="CDM-PL-NTDM", name="Agente Uno")
    colleague = make_user(org="CDM-PL-NTDM", name="Agente Due")
    nurse = make_user(org="ASST-NIGUARDA", name="Infermiera Tre")
    leaver = make_user(org="CDM-PL-NTDM", name="Agente Uscito")
    own = [complete(agent), complete(colleague, key="course:b", title="Secondo corso")]
    complete(nurse)
    complete(leaver)
    end_membership(db.session, org_id("CDM-PL-NTDM"), leaver.id)
    revoked = complete(agent, key="course:c")
    issuing.revoke(db.session, revoked, "errore", actor=None)
    db.session.commit()

    url = f"/certificates/organisations/{org_id('CDM-PL-NTDM')}/certificates.zip"
    client_b = app.test_client()
    login(client_b, referent_b.email)
    assert client_b.post(url).status_code in (400, 403)
    assert client_b.get(url.replace("certificates.zip", "")).status_code == 403

    client_a = app.test_client()
    login(client_a, referent_a.email)
    job_page = ask_zip(client_a, url)
    assert "Archivio pronto: 2 attestati." in job_page.text
    job_id = int(re.search(r"/jobs/(\d+)/download", job_page.text).group(1))
    assert client_b.get(f"/jobs/{job_id}/download").status_code == 404  # not theirs
    archive = _archive(client_a.get(f"/jobs/{job_id}/download"))
    pdfs = sorted(n for n in archive.namelist() if n.endswith(".pdf"))
    assert pdfs == sorted(f"{c.serial}_{c.holder_name.replace(' ', '-')}.pdf" for c in own)
    for cert in own:
        data = archive.read(f"{cert.serial}_{cert.holder_name.replace(' ', '-')}.pdf")
        assert cert.holder_name in pdf_text(data) and cert.title in pdf_text(data)
    index = list(csv.reader(io.StringIO(archive.read("indice.csv").decode("utf-8-sig"))))
    assert len(index) == 1 + len(own) and {row[0] for row in index[1:]} == {c.serial for c in own}
    listing = client_a.get(url.replace("certificates.zip", "")).get_data(as_text=True)
    assert "Agente Uno" in listing and "Infermiera Tre" not in listing
    assert "Agente Uscito" not in listing


def test_filters_by_course_and_status(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    agent = make_user(org="CDM-PL-NTDM", name="Agente Filtro")
    valid = complete(agent, key="course:a", title="Corso A")
    expiring = complete(
        agent, key="course:b", title="Corso B", completed_at=clock.now() - dt.timedelta(days=700)
    )
    expired = complete(
        agent, key="course:c", title="Corso C", completed_at=clock.now() - dt.timedelta(days=800)
    )
    client = app.test_client()
    login(client, admin.email)  # admins manage every organisation
    base = f"/certificates/organisations/{org_id('CDM-PL-NTDM')}/certificates.zip"

    def serials(query: str) -> set[str]:
        names = _archive(download_zip(client, base + query)).namelist()
        return {n.split("_")[0] for n in names if n.endswith(".pdf")}

    assert serials("") == {valid.serial, expiring.serial}  # current = valid or expiring
    assert serials("?status=expired") == {expired.serial}
    assert serials("?status=expiring") == {expiring.serial}
    assert serials("?key=course:a&status=valid") == {valid.serial}
    assert serials("?key=course:b&status=valid") == set()
    assert serials("?status=nonsense") == {valid.serial, expiring.serial}  # defaults


def test_stream_zip_yields_one_chunk_per_entry_as_it_goes():
    produced: list[str] = []

    def make(name: str) -> Entry:
        def produce() -> bytes:
            produced.append(name)
            return name.encode() * 1000

        return Entry(name, produce)

    stream = stream_zip(make(f"f{i}.txt") for i in range(3))
    first = next(stream)
    assert produced == ["f0.txt"] and first.startswith(b"PK")  # nothing drawn ahead
    rest = b"".join(stream)
    archive = zipfile.ZipFile(io.BytesIO(first + rest))
    assert archive.namelist() == ["f0.txt", "f1.txt", "f2.txt"]
    assert archive.read("f2.txt") == b"f2.txt" * 1000 and archive.testzip() is None


def test_referent_of_two_organisations_can_switch(app: Flask, make_user):
    from lms.organisations.services import add_member

    referent = make_user(org="CDM-PL-NTDM", referent=True)
    add_member(
        db.session,
        organisation_by_code(db.session, "ASST-NIGUARDA"),
        email=referent.email,
        full_name=referent.full_name,
        audience_code="triage_asst",
        is_referent=True,
    )
    db.session.commit()
    client = app.test_client()
    login(client, referent.email)
    home = client.get("/").get_data(as_text=True)
    assert "Attestati dell&#39;organizzazione" in home
    page = client.get(f"/certificates/organisations/{org_id('CDM-PL-NTDM')}/")
    assert f"/certificates/organisations/{org_id('ASST-NIGUARDA')}/" in page.get_data(as_text=True)
