"""Issue 16: the monthly digest goes on past a referent it cannot write to, and says so."""

from __future__ import annotations

from sqlalchemy import select, update

from commitments.models import DigestSent
from lms import db
from lms.accounts.models import User
from lms.organisations.models import Organisation
from tests.commitments.helpers import PL, org_id
from tests.commitments.test_digest import prepare


def test_a_failing_referent_is_counted_and_the_others_get_theirs(
    app, make_user, two_courses, outbox
):
    referents, _asst = prepare(app, make_user, two_courses)
    with app.app_context():
        # old data: an organisation name with a line break, and an address that cannot
        # go in a header
        db.session.execute(
            update(Organisation)
            .where(Organisation.id == org_id(PL))
            .values(name="Polizia Locale\r\nBcc: tutti@x.test")
        )
        db.session.execute(
            update(User).where(User.id == referents[0].id).values(email="rotto@x.test\nbcc: y@z")
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["lms", "commitments", "digest"])
    assert result.exit_code == 1, result.output
    assert "Promemoria inviati: 1 a referenti di 1 organizzazione" in result.output
    assert "non inviati per errore: 1." in result.output
    [message] = outbox.messages()
    assert message["To"] == referents[1].email and message["Bcc"] is None
    assert message["Subject"].startswith(
        "Formazione del personale: Polizia Locale Bcc: tutti@x.test"
    )
    with app.app_context():  # one referent got it: the month is recorded (no repeat to them)
        assert db.session.scalar(select(DigestSent).where(DigestSent.organisation_id == org_id(PL)))


def test_when_nobody_could_be_written_to_the_month_stays_open(app, make_user, two_courses, outbox):
    referents, _asst = prepare(app, make_user, two_courses)
    with app.app_context():
        for n, referent in enumerate(referents):
            db.session.execute(
                update(User).where(User.id == referent.id).values(email=f"r{n}@x.test\r\nbcc: y@z")
            )
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "commitments", "digest"])
    assert result.exit_code == 1 and "non inviati per errore: 2." in result.output
    assert outbox.messages() == []
    with app.app_context():  # the next run tries again
        assert (
            db.session.scalar(select(DigestSent).where(DigestSent.organisation_id == org_id(PL)))
            is None
        )
