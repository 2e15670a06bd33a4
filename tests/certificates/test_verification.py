"""Each way a certificate can be genuine or not, told by the CLI and by the upload page."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from fpdf import FPDF
from pypdf import PdfReader

from certificates import issuing, keys, signing
from certificates.config import issuer_settings
from certificates.verification import Outcome, check_payload, check_pdf
from lms import clock, db
from tests.certificates.conftest import pdf_bytes, replace_attachments
from tests.conftest import post_form

CLI_WORDS = {
    "valid": "VALIDO / VALID",
    "signature_invalid": "FIRMA NON VALIDA",
    "not_issued_here": "NON EMESSO QUI",
    "expired": "SCADUTO / EXPIRED",
    "unreadable": "NON LEGGIBILE / UNREADABLE",
    "altered": "DOCUMENTO ALTERATO / DOCUMENT ALTERED",
    "unconfirmed": "DOCUMENTO NON CONFERMABILE / DOCUMENT UNCONFIRMED",
}
EXIT = {
    "valid": 0,
    "signature_invalid": 1,
    "not_issued_here": 2,
    "expired": 3,
    "revoked": 4,
    "unreadable": 5,
    "altered": 6,
    "unconfirmed": 7,
}


def cli_verify(app: Flask, tmp_path: Path, data: bytes, *extra: str):
    path = tmp_path / "attestato.pdf"
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["lms", "certificates", "verify", str(path), *extra])


def upload(app: Flask, data: bytes, *, status: int = 200) -> str:
    client = app.test_client()
    response = post_form(
        client,
        "/certificates/verify/upload",
        {"document": (io.BytesIO(data), "attestato.pdf")},
        form_url="/certificates/verify",
        content_type="multipart/form-data",
    )
    assert response.status_code == status
    return response.get_data(as_text=True)


def assert_reported(app: Flask, tmp_path: Path, data: bytes, outcome: str) -> None:
    result = cli_verify(app, tmp_path, data)
    assert CLI_WORDS[outcome] in result.output, result.output
    assert result.exit_code == EXIT[outcome], result.output
    status = 422 if outcome == "unreadable" else 200
    assert f'data-outcome="{outcome}"' in upload(app, data, status=status)


def attachments(data: bytes) -> tuple[bytes, bytes]:
    found = PdfReader(io.BytesIO(data)).attachments
    return found["certificate.json"][0], found["certificate.sig"][0]


@pytest.fixture
def genuine(app: Flask, make_user, complete) -> bytes:
    cert = complete(make_user(name="Nguyễn Thị Minh"))
    return pdf_bytes(app, cert)


def test_genuine_certificate_is_valid(app: Flask, tmp_path: Path, genuine: bytes):
    assert_reported(app, tmp_path, genuine, "valid")
    result = cli_verify(app, tmp_path, genuine)
    assert "Nguyễn Thị Minh" in result.output and "Revoca non controllata" in result.output
    assert "confrontali con il documento" in result.output
    page = upload(app, genuine)
    assert "Nguyễn Thị Minh" in page and "Accoglienza e orientamento delle donne" in page
    assert "Confronta questi dati" in page and 'data-fact="version">2026.1<' in page


def test_every_byte_of_the_payload_is_covered_by_the_signature(app: Flask, genuine: bytes):
    payload, signature_doc = attachments(genuine)
    public = keys.public_keys(db.session)
    assert check_payload(payload, signature_doc, public).outcome is Outcome.VALID
    for position in range(len(payload)):
        edited = bytearray(payload)
        edited[position] ^= 0x01
        check = check_payload(bytes(edited), signature_doc, public)
        assert check.outcome is Outcome.SIGNATURE_INVALID, position


def test_pdf_edited_in_the_payload_is_signature_invalid(app: Flask, tmp_path: Path, genuine: bytes):
    payload, _signature_doc = attachments(genuine)
    start = genuine.index(payload)  # attachments are stored as they are: edit the file itself
    for offset in (0, payload.index(b"Nguy"), payload.index(b'"hours":8') + 8, len(payload) - 1):
        edited = bytearray(genuine)
        edited[start + offset] ^= 0x01
        assert_reported(app, tmp_path, bytes(edited), "signature_invalid")


def test_payload_resigned_with_another_key(app: Flask, tmp_path: Path, genuine: bytes):
    payload, signature_doc = attachments(genuine)
    data = json.loads(payload)
    data["holder"] = "Qualcun Altro"
    forged = signing.canonical(data)
    impostor = keys.SigningKey(data["key_id"], Ed25519PrivateKey.generate())
    claimed = signing.signature_document(data["key_id"], signing.sign(forged, impostor))
    assert_reported(
        app, tmp_path, replace_attachments(genuine, forged, claimed), "signature_invalid"
    )
    # signed and named as the forger's own key: simply not ours
    own_id = keys.key_id_of(impostor.private_key.public_key())
    named = signing.signature_document(own_id, signing.sign(forged, impostor))
    assert_reported(app, tmp_path, replace_attachments(genuine, forged, named), "not_issued_here")


def test_certificate_from_another_issuer(app: Flask, tmp_path: Path, genuine: bytes):
    """Signed, consistently, by another installation's key (keys are per installation)."""
    payload, _signature_doc = attachments(genuine)
    content = json.loads(payload)
    other_key = Ed25519PrivateKey.generate()
    content["key_id"] = keys.key_id_of(other_key.public_key())
    signed = signing.canonical(content)
    signature = signing.sign(signed, keys.SigningKey(content["key_id"], other_key))
    document = signing.signature_document(content["key_id"], signature)
    data = replace_attachments(genuine, signed, document)
    assert_reported(app, tmp_path, data, "not_issued_here")
    # ... unless its public key is given explicitly
    public = tmp_path / "other.pem"
    public.write_text(keys.public_pem(other_key.public_key()))
    result = cli_verify(app, tmp_path, data, "--public-key", str(public))
    assert result.exit_code == 0 and "VALIDO" in result.output


def test_pdf_without_signed_data_is_not_issued_here(app: Flask, tmp_path: Path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=20)
    pdf.cell(text="Attestato di formazione - Maria Rossi")
    assert_reported(app, tmp_path, bytes(pdf.output()), "not_issued_here")
    # what is not a PDF at all is told apart (tests/certificates/test_pdf_limits.py)
    assert_reported(app, tmp_path, b"not a pdf at all", "unreadable")


def test_expired_certificate(app: Flask, tmp_path: Path, make_user, complete):
    cert = complete(make_user(), completed_at=clock.now() - dt.timedelta(days=800))
    assert_reported(app, tmp_path, pdf_bytes(app, cert), "expired")


def test_revoked_certificate(app: Flask, tmp_path: Path, make_user, complete):
    cert = complete(make_user())
    data = pdf_bytes(app, cert)
    issuing.revoke(db.session, cert, "Attestato emesso per errore", actor=None)
    db.session.commit()
    assert 'data-outcome="revoked"' in upload(app, data)
    offline = cli_verify(app, tmp_path, data)  # no network: says it could not check
    assert offline.exit_code == 0 and "Revoca non controllata" in offline.output
    with serving(app) as site:
        online = cli_verify(app, tmp_path, data, "--online", "--site", site)
    assert "REVOCATO / REVOKED" in online.output and online.exit_code == EXIT["revoked"]


def test_rotated_keys_keep_old_certificates_valid(app: Flask, tmp_path: Path, make_user, complete):
    old = complete(make_user())
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "rotate"])
    assert result.exit_code == 0
    new = complete(make_user())
    current = keys.current_key_id(db.session, app.config["LMS_SECRET_KEY"])
    assert new.key_id != old.key_id and current == new.key_id
    public = keys.public_keys(db.session)
    for cert in (old, new):
        assert check_pdf(pdf_bytes(app, cert), public).outcome is Outcome.VALID
    listed = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "list"])
    assert old.key_id in listed.output and f"{new.key_id}  (corrente)" in listed.output


def test_public_keys_are_published(app: Flask, client, make_user, complete):
    cert = complete(make_user())
    pem = client.get("/certificates/public-key.pem")
    assert pem.status_code == 200 and b"BEGIN PUBLIC KEY" in pem.data
    published = client.get("/certificates/keys.json").get_json()
    assert published["algorithm"] == "Ed25519"
    assert cert.key_id in {k["key_id"] for k in published["keys"]}
    current = keys.load_public_pem(pem.data)
    assert keys.key_id_of(current) == published["current"]
    assert issuer_settings(app).secret_key == app.config["LMS_SECRET_KEY"]


# --- a real HTTP server on the loopback, for the online check -----------------------


class serving:  # noqa: N801 - used as a context manager
    """Serve ``app`` on 127.0.0.1 in a thread for the duration of a ``with`` block."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=False)

    def __enter__(self) -> str:
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
