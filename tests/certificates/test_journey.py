"""As a person would: complete a real course, download, open the QR link, upload the PDF.

Also the contracts with the core: the audit log and personal-data export/erasure.
"""

from __future__ import annotations

import io
import re

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from certificates import codes, issuing, openbadges
from certificates.models import Certificate, OpenBadge, Status
from lms import audit, clock, db, privacy
from lms.accounts.models import Role
from tests.certificates.conftest import pdf_bytes
from tests.conftest import login, post_form


def test_operator_completes_a_course_and_proves_it(app: Flask, make_user, make_course):
    with app.app_context():
        make_course(slug="accoglienza", title="Accoglienza in Pronto Soccorso")
    operator = make_user(name="Infermiera Żółć", org="ASST-NIGUARDA", audience="triage_asst")
    client = app.test_client()
    login(client, operator.email)
    course_page = "/courses/accoglienza/"
    post_form(client, "/courses/accoglienza/enrol", {}, form_url=course_page)
    for module in ("primo", "secondo"):
        page = f"/courses/accoglienza/modules/{module}"
        post_form(client, f"{page}/complete", {}, form_url=page)

    mine = client.get("/certificates/").get_data(as_text=True)
    assert "Accoglienza in Pronto Soccorso" in mine
    download_path = re.search(r'href="(/certificates/\d+/download)"', mine).group(1)
    document = client.get(download_path).data
    reader = PdfReader(io.BytesIO(document))
    assert "Infermiera Żółć" in reader.pages[0].extract_text()

    text = reader.pages[0].extract_text()
    qr_url = re.search(r"http://lms\.test(/certificates/verify/[0-9A-Z-]+)", text).group(1)
    anonymous = app.test_client()
    scanned = anonymous.get(qr_url).get_data(as_text=True)
    assert 'data-outcome="valid"' in scanned and "Infermiera Żółć" in scanned
    uploaded = post_form(
        anonymous,
        "/certificates/verify/upload",
        {"document": (io.BytesIO(document), "attestato.pdf")},
        form_url="/certificates/verify",
        content_type="multipart/form-data",
    )
    assert 'data-outcome="valid"' in uploaded.get_data(as_text=True)


def test_revocation_and_reissue_are_audited(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    holder = make_user(org="CDM-PL-NTDM")
    cert = complete(holder)
    with app.app_context():
        from certificates.config import issuer_settings

        cert = db.session.get(Certificate, cert.id)
        new = issuing.reissue(db.session, cert, issuer_settings(app), actor=admin)
        issuing.revoke(db.session, new, "Completamento annullato", actor=admin)
        db.session.commit()
        entries = audit.search(db.session, action="certificate.")
        by_action = {e.action: e for e in entries if e.subject_id == holder.id}
    assert by_action["certificate.reissued"].object_id == cert.serial
    revoked = by_action["certificate.revoked"]
    assert revoked.actor_id == admin.id and revoked.actor_role == "admin"
    assert revoked.details["reason"] == "Completamento annullato"
    assert revoked.organisation_id == cert.organisation_id


def test_personal_data_export_and_erasure(app: Flask, make_user, complete):
    admin = make_user(roles=(Role.ADMIN,))
    holder = make_user(name="Maria Cancellabile", email="maria@rete-milano.test")
    cert = complete(holder)
    with app.app_context():
        assert "certificates_certificate" not in privacy.uncovered_tables()
        cert = db.session.get(Certificate, cert.id)
        openbadges.badge_for(db.session, cert, subject_did="did:example:maria")
        db.session.commit()
        exported = privacy.export_user(db.session, holder.id, actor=admin)
        assert exported["certificates"]["certificates"][0]["serial"] == cert.serial
        (badge,) = exported["certificates"]["open_badges"]
        assert badge == {**badge, "certificate": cert.serial, "subject": "did:example:maria"}
        privacy.erase_user(db.session, holder.id, actor=admin, confirm_email=holder.email)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OpenBadge)) == 0
        erased = db.session.scalar(select(Certificate).where(Certificate.id == cert.id))
        assert erased.holder_name != "Maria Cancellabile"
        assert "Maria" not in erased.payload
        assert erased.status(clock.now(), 60) is Status.REVOKED
    page = app.test_client().get(f"/certificates/verify/{codes.grouped(cert.code)}")
    body = page.get_data(as_text=True)
    assert 'data-outcome="revoked"' in body and "Maria" not in body


def test_reminder_links_back_to_the_course_page(app: Flask, make_user, complete, outbox):
    from tests.certificates.test_reminders import completed_for_expiry_in, remind

    holder = make_user()
    complete(holder, key="course:accoglienza", completed_at=completed_for_expiry_in(20))
    remind(app)
    (message,) = outbox.messages()
    assert "http://lms.test/courses/accoglienza/" in message.get_content()


def test_pdf_of_a_certificate_renders_after_reissue(app: Flask, make_user, complete):
    holder = make_user(name="Ahmed El-Sayed")
    cert = complete(holder)
    with app.app_context():
        from certificates.config import issuer_settings

        cert = db.session.get(Certificate, cert.id)
        new = issuing.reissue(db.session, cert, issuer_settings(app))
        db.session.commit()
        assert f"{cert.serial}-R1" in pdf_bytes(app, new).decode("latin-1")
