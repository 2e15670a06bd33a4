"""Defining commitments: YAML import (file and browser), the admin form, the CLI."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from commitments.manage import definitions
from commitments.models import Commitment
from lms import db
from lms.accounts.models import Role
from lms.errors import FormatError, ServiceError
from tests.commitments.helpers import audience_id, make_commitment
from tests.conftest import login, post_form

YAML = """\
defaults:
  renewal_months: 36
  target_percent: 80
  deadline: 2026-11-22
commitments:
  - code: prova-pl
    title: "Polizia Locale: prova"
    audiences: [polizia_locale]
    courses: [rete-prova, pl-prova]
  - code: prova-asst
    title: "ASST: prova"
    audiences: [triage_asst]
    organisation_type: sociosanitario
    courses: [rete-prova]
    choose: {count: 1, from: [pl-prova]}
    target_percent: 60
"""


def test_yaml_import_creates_then_is_idempotent_then_updates(ctx, two_courses):
    outcomes = definitions.import_yaml(db.session, YAML)
    assert [(o.code, o.state) for o in outcomes] == [
        ("prova-pl", "created"),
        ("prova-asst", "created"),
    ]
    asst = db.session.scalar(select(Commitment).where(Commitment.code == "prova-asst"))
    assert asst.target_percent == 60 and asst.renewal_months == 36
    assert asst.deadline == dt.date(2026, 11, 22) and asst.choose_count == 1
    assert [c.required for c in asst.courses] == [True, False]
    assert [o.state for o in definitions.import_yaml(db.session, YAML)] == ["unchanged"] * 2
    changed = YAML.replace("target_percent: 60", "target_percent: 70")
    assert [o.state for o in definitions.import_yaml(db.session, changed)] == [
        "unchanged",
        "updated",
    ]
    kept = definitions.import_yaml(db.session, YAML, update=False)
    assert [o.state for o in kept] == ["kept", "kept"]


def test_yaml_errors_have_lines_and_nothing_is_written(ctx, two_courses):
    bad = (
        YAML.replace("[rete-prova, pl-prova]", "[rete-prova, inesistente]").replace(
            "organisation_type: sociosanitario", "organisation_type: marziani"
        )
        + "  - code: X\n    title: t\n    audiences: [nessuno]\n    courses: []\n"
    )
    with pytest.raises(FormatError) as error:
        definitions.import_yaml(db.session, bad, filename="impegni.yaml")
    messages = [str(i) for i in error.value.issues]
    assert "impegni.yaml:6: prova-pl: corso sconosciuto: inesistente" in messages
    assert any(
        m.startswith("impegni.yaml:10: prova-asst: tipo di organizzazione sconosciuto")
        for m in messages
    )
    assert any(
        m.startswith("impegni.yaml:17: X:") and "profilo sconosciuto: nessuno" in m
        for m in messages
    )
    assert db.session.scalar(select(Commitment.id)) is None
    with pytest.raises(FormatError, match="YAML non valido"):
        definitions.import_yaml(db.session, "commitments: [unclosed")
    with pytest.raises(FormatError, match="serve una chiave «commitments»"):
        definitions.import_yaml(db.session, "- a\n- b\n")


def test_a_repeated_key_is_refused_with_its_line(ctx, two_courses):
    once = "    courses: [rete-prova, pl-prova]\n"
    assert YAML.count(once) == 1
    twice = YAML.replace(once, once + "    courses: [rete-prova]\n")
    with pytest.raises(FormatError) as error:
        definitions.import_yaml(db.session, twice, filename="impegni.yaml")
    assert [str(i) for i in error.value.issues] == ["impegni.yaml:10: chiave ripetuta: courses"]
    assert db.session.scalar(select(Commitment.id)) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "No Spaces"}, "Il codice deve avere"),
        ({"audience_ids": []}, "Indica almeno un profilo"),
        (
            {"required_course_ids": [], "optional_course_ids": [], "choose_count": 0},
            "Indica almeno un corso",
        ),
        ({"target_percent": 0}, "L'obiettivo di copertura"),
        ({"choose_count": 3}, "tra 1 e 1"),
        ({"organisation_type": "comune", "organisation_id": 1}, "non entrambi"),
        ({"renewal_months": 0}, "La validità deve essere"),
        ({"title": "Impegno\r\nsu due righe"}, "Il titolo non può contenere a capo"),
        ({"title": "Impegno\x1b[2J"}, "Il titolo contiene un carattere non ammesso (U+001B)"),
    ],
)
def test_definitions_are_checked(ctx, two_courses, change, message):
    network, specific = two_courses
    data = definitions.CommitmentData(
        code="valido",
        title="Valido",
        audience_ids=[audience_id("scuola")],
        required_course_ids=[network.course_id],
        optional_course_ids=[specific.course_id],
        choose_count=1,
        target_percent=80,
        deadline=dt.date(2027, 1, 1),
    )
    for key, value in change.items():
        setattr(data, key, value)
    with pytest.raises(ServiceError) as error:
        definitions.save(db.session, data)
    assert any(message in detail for detail in error.value.details)


def test_defaults_load_from_the_starter_courses(ctx):
    from courses.cli import import_path
    from courses.plugin import CONTENT_DIR

    import_path(CONTENT_DIR, publish=True)
    outcomes = definitions.load_defaults(db.session)
    assert len(outcomes) == 9 and all(o.state == "created" for o in outcomes)
    again = definitions.load_defaults(db.session)
    assert all(o.state == "kept" for o in again)
    pl = db.session.scalar(select(Commitment).where(Commitment.code == "polizia-locale"))
    assert [c.course.slug for c in pl.courses] == [
        "rete-antiviolenza-milano",
        "polizia-locale-denuncia",
    ]
    assert pl.target_percent == 80 and pl.renewal_months == 36
    assert pl.deadline == dt.date(2026, 11, 22)
    cav = db.session.scalar(select(Commitment).where(Commitment.code == "operatrici-cav"))
    assert cav.choose_count == 1 and len(cav.optional_courses) == 3


def test_admin_creates_and_edits_a_commitment_in_the_browser(app, make_user, two_courses):
    network, specific = two_courses
    with app.app_context():
        coordinator = make_user(roles=(Role.COORDINATOR,))
        scuola = audience_id("scuola")
    client = app.test_client()
    login(client, coordinator.email)
    form = {
        "code": "scuola-prova",
        "title": "Scuola: prova",
        "organisation": "",
        "organisation_type": "altro",
        "audiences": [str(scuola)],
        "required_courses": [str(network.course_id)],
        "optional_courses": [str(specific.course_id)],
        "choose_count": "1",
        "renewal_months": "",
        "target_percent": "70",
        "deadline": "2027-06-30",
        "active": "y",
    }
    created = post_form(client, "/commitments/manage/new", form)
    assert created.status_code == 302
    with app.app_context():
        commitment = db.session.scalar(select(Commitment).where(Commitment.code == "scuola-prova"))
        assert commitment.organisation_type == "altro" and commitment.choose_count == 1
        commitment_id = commitment.id
    listing = client.get("/commitments/manage/").get_data(as_text=True)
    assert "Scuola: prova" in listing and "almeno 1 corso a scelta" in listing
    edit_url = f"/commitments/manage/{commitment_id}/edit"
    assert 'value="scuola-prova"' in client.get(edit_url).get_data(as_text=True)
    both = post_form(client, edit_url, {**form, "organisation": "1"})
    assert both.status_code == 200
    assert "non entrambi" in both.get_data(as_text=True)
    updated = post_form(client, edit_url, {**form, "target_percent": "90"})
    assert updated.status_code == 302
    with app.app_context():
        assert db.session.get(Commitment, commitment_id).target_percent == 90


def test_yaml_upload_in_the_browser_and_access(app, make_user, two_courses):
    with app.app_context():
        coordinator = make_user(roles=(Role.COORDINATOR,))
        referent = make_user(org="CDM-PL-NTDM", referent=True)
    client = app.test_client()
    login(client, coordinator.email)
    done = post_form(
        client,
        "/commitments/manage/",
        {"file": (io.BytesIO(YAML.encode()), "impegni.yaml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Impegni creati: 2, aggiornati: 0, invariati: 0." in done.get_data(as_text=True)
    bad = post_form(
        client,
        "/commitments/manage/",
        {"file": (io.BytesIO(b"commitments:\n  - code: x\n"), "impegni.yaml")},
        content_type="multipart/form-data",
    )
    assert "Importazione annullata" in bad.get_data(as_text=True)
    referent_client = app.test_client()
    login(referent_client, referent.email)
    assert referent_client.get("/commitments/manage/").status_code == 403
    assert referent_client.get("/commitments/manage/new").status_code == 403


def test_cli_import_and_list(app, two_courses, tmp_path):
    path = tmp_path / "impegni.yaml"
    path.write_text(YAML, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "commitments", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "prova-pl: creato" in result.output
    again = runner.invoke(args=["lms", "commitments", "import", str(path)])
    assert "prova-pl: invariato" in again.output
    listed = runner.invoke(args=["lms", "commitments", "list"])
    assert "prova-asst: sociosanitario" in listed.output and "pl-prova*" in listed.output
    path.write_text(YAML.replace("rete-prova, pl-prova", "rete-prova, nessuno"), encoding="utf-8")
    failed = runner.invoke(args=["lms", "commitments", "import", str(path)])
    assert failed.exit_code == 1
    assert "impegni.yaml:6: prova-pl: corso sconosciuto: nessuno" in failed.output


def test_a_commitment_for_one_organisation_only(ctx, two_courses):
    network, _specific = two_courses
    commitment = make_commitment([network], organisation="CDM-PL-NTDM")
    assert commitment.organisation.code == "CDM-PL-NTDM"
