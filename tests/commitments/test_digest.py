"""The monthly digest to referents: who is overdue, expired or expiring; once a month."""

from __future__ import annotations

import datetime as dt
import re

from lms import db
from tests.commitments.helpers import ASST, PL, complete, make_commitment, org_id

NOW = dt.datetime.now(dt.UTC)
MONTH = dt.timedelta(days=30)


def prepare(app, make_user, two_courses):
    network, specific = two_courses
    with app.app_context():
        make_commitment(
            [network],
            code="rete",
            title="Formazione di Rete",
            audiences=("polizia_locale", "triage_asst"),
        )
        make_commitment(
            [specific],
            code="scaduto",
            title="Impegno già scaduto",
            deadline=(NOW - 2 * MONTH).date(),
        )
        referents = [
            make_user(org=PL, referent=True, name="Prima Referente", audience="amministrazione"),
            make_user(org=PL, referent=True, name="Secondo Referente", audience="amministrazione"),
        ]
        ok = make_user(org=PL, name="Tutto Bene")
        expiring = make_user(org=PL, name="Quasi Scaduta")
        expired = make_user(org=PL, name="Già Scaduto")
        complete(ok, network, NOW - MONTH)
        complete(ok, specific, NOW - MONTH)
        complete(expiring, network, NOW - 35 * MONTH)
        complete(expired, network, NOW - 38 * MONTH)
        asst_referent = make_user(org=ASST, referent=True, audience="amministrazione")
        make_user(org=ASST, name="Infermiera Tranquilla", audience="triage_asst")
        db.session.commit()
    return referents, asst_referent


def test_digest_lists_people_needing_attention_once_a_month(app, make_user, two_courses, outbox):
    referents, asst_referent = prepare(app, make_user, two_courses)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["lms", "commitments", "digest", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Promemoria da inviare: 2 a referenti di 1 organizzazione" in dry.output
    assert outbox.messages() == []

    result = runner.invoke(args=["lms", "commitments", "digest"])
    assert result.exit_code == 0, result.output
    messages = {m["To"]: m for m in outbox.messages()}
    # Niguarda's staff need nothing this month: its referent gets no digest.
    assert set(messages) == {r.email for r in referents}
    body = messages[referents[0].email].get_content()
    assert "Buongiorno Prima Referente" in body
    assert "== Formazione di Rete ==" in body and "== Impegno già scaduto ==" in body
    assert "In scadenza (1):\n- Quasi Scaduta <" in body
    assert "Scaduto (1):\n- Già Scaduto" in body
    assert "In ritardo (2):" in body  # past deadline: the two without the second course
    assert "Tutto Bene" not in body.split("== Formazione di Rete ==")[1].split("==")[0]
    with app.app_context():
        assert f"http://lms.test/commitments/organisations/{org_id(PL)}/" in body
    assert "vittima" not in body.lower()

    again = runner.invoke(args=["lms", "commitments", "digest"])
    assert "già inviati questo mese: 1" in again.output
    assert len(outbox.messages()) == 2
    forced = runner.invoke(args=["lms", "commitments", "digest", "--force"])
    assert "Promemoria inviati: 2" in forced.output
    assert len(outbox.messages()) == 4


def test_no_digest_when_nothing_needs_attention(app, make_user, two_courses, outbox):
    network, _specific = two_courses
    with app.app_context():
        make_commitment([network])
        make_user(org=PL, referent=True, audience="amministrazione")
        fine = make_user(org=PL)
        complete(fine, network, NOW - MONTH)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["lms", "commitments", "digest"])
    assert "Promemoria inviati: 0" in result.output
    assert outbox.messages() == []


def test_digest_counts_the_people_not_listed_in_the_right_form(
    app, make_user, two_courses, outbox, monkeypatch
):
    """Past the list's length the rest is counted: "e 1 altra persona", not "e altre 1
    persone"; the target as a percentage in the locale's format."""
    from commitments.reporting import reminders

    referents, _asst = prepare(app, make_user, two_courses)
    monkeypatch.setattr(reminders, "MAX_LISTED", 1)
    result = app.test_cli_runner().invoke(args=["lms", "commitments", "digest"])
    assert result.exit_code == 0, result.output
    body = next(m for m in outbox.messages() if m["To"] == referents[0].email).get_content()
    late = body.split("In ritardo (2):")[1]
    assert "… e 1 altra persona." in late.split("\n\n")[0]
    assert "altre 1 persone" not in body
    assert re.search(r"obiettivo \d+ % entro il", body)
