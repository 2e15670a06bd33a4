"""The PDF signature (PAdES) on every certificate: readers see it signed (issue 20).

Real files, real pyHanko, pypdf and Debian's ``pdfsig``; a timestamp authority served
on the loopback for PAdES B-T; no mocks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from certificates import keys, pades
from certificates.models import SigningKeyRecord
from certificates.verification import Outcome, Page, PdfCheck, check_pdf
from lms import clock, db
from tests.certificates.conftest import pdf_bytes, race_hosts
from tests.certificates.test_verification import attachments, cli_verify, upload

DATA = Path(__file__).parent / "data"


def secret(app: Flask) -> str:
    return str(app.config["LMS_SECRET_KEY"])


def trust_roots() -> list[asn1_x509.Certificate]:
    return list(keys.pades_trust(db.session).roots)


def pyhanko_status(data: bytes, roots: list[asn1_x509.Certificate]):
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    return validate_pdf_signature(signature, context)


def pdfsig(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "firmato.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@pytest.fixture
def genuine(app: Flask, make_user, complete) -> bytes:
    cert = complete(make_user(name="Łucja Żółć"))
    return pdf_bytes(app, cert)


# --- an untouched certificate ---------------------------------------------------------


def test_untouched_certificate_is_signed_for_pyhanko_and_pdfsig(
    app: Flask, tmp_path: Path, genuine: bytes
):
    status = pyhanko_status(genuine, trust_roots())
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    signature = PdfFileReader(io.BytesIO(genuine)).embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES baseline
    assert shutil.which("pdfsig"), "pdfsig (poppler-utils) is installed by tools/"
    report = pdfsig(genuine, tmp_path)
    assert "Signature is Valid." in report, report
    assert "Total document signed" in report, report
    assert "ETSI.CAdES.detached" in report
    # self-issued: valid signature, issuer not in the reader's trust store
    assert "Certificate issuer is unknown" in report or "isn't Trusted" in report, report
    check = check_pdf(
        genuine, keys.public_keys(db.session), pades_trust=keys.pades_trust(db.session)
    )
    assert check.outcome is Outcome.VALID and check.document is Page.SIGNED
    assert 'data-outcome="valid"' in upload(app, genuine)
    result = cli_verify(app, tmp_path, genuine)
    assert result.exit_code == 0 and "firma PDF (PAdES) valida" in result.output


def test_signing_and_checking_work_where_an_event_loop_already_runs(
    app: Flask, make_user, complete
):
    """pyHanko's calls start an event loop: under an asynchronous host (or a browser-test
    driver) one already runs in the thread; the document is still signed and checked."""
    cert = complete(make_user(name="Anna Asincrona"))

    async def inside_a_loop() -> tuple[bytes, PdfCheck]:
        asyncio.get_running_loop()  # one runs here
        data = pdf_bytes(app, cert)
        trust = keys.pades_trust(db.session)
        return data, check_pdf(data, keys.public_keys(db.session), pades_trust=trust)

    data, check = asyncio.run(inside_a_loop())
    assert check.outcome is Outcome.VALID and check.document is Page.SIGNED
    assert pyhanko_status(data, trust_roots()).bottom_line


def test_signature_has_a_visible_stamp_and_leaves_the_attachments_as_they_were(
    app: Flask, make_user, complete
):
    cert = complete(make_user(name="Maria Rossi"))
    data = pdf_bytes(app, cert)
    reader = PdfReader(io.BytesIO(data))
    widgets = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    (stamp,) = [w for w in widgets if w.get("/FT") == "/Sig"]
    left, bottom, right, top = (float(v) for v in stamp["/Rect"])
    assert right - left > 100 and top - bottom > 20  # visible, not a zero-size field
    assert "/N" in stamp["/AP"]
    payload, signature_doc = attachments(data)
    assert payload == cert.payload.encode()  # the signed bytes, untouched by the update
    assert b'"signature"' in signature_doc


# --- keys and certificates --------------------------------------------------------------


def test_each_generation_has_a_sealed_pades_key_and_a_self_issued_certificate(
    app: Flask, genuine: bytes
):
    record = db.session.scalars(
        select(SigningKeyRecord).order_by(SigningKeyRecord.generation.desc())
    ).first()
    assert record is not None and record.pades_private_sealed and record.pades_certificate_pem
    (certificate,) = pades.load_chain(record.pades_certificate_pem)
    assert certificate.subject == certificate.issuer
    name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert str(name).startswith(app.config["LMS_CERT_ISSUER"][:40])
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    validity = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert validity >= dt.timedelta(days=3650)
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert certificate.public_key().curve.name == "secp256r1"
    assert record.pades_private_sealed.startswith(keys.SEALED_PREFIX)
    assert "PRIVATE" not in record.pades_private_sealed  # never stored in the clear
    private = keys.unseal_pades(record.pades_private_sealed, record.key_id, secret(app))
    assert pades.matches(private, certificate)
    with pytest.raises(keys.KeyStoreError):  # bound to its id and its purpose
        keys.unseal_pades(record.pades_private_sealed, "0" * 16, secret(app))
    with pytest.raises(keys.KeyStoreError):
        keys.unseal(record.pades_private_sealed, record.key_id, secret(app))


def test_a_key_made_before_pades_gets_one_certificate_once(app: Flask, make_user, complete):
    record = db.session.scalars(
        select(SigningKeyRecord).order_by(SigningKeyRecord.generation.desc())
    ).first()
    if record is None:
        keys.ensure(db.session, secret(app))
        record = db.session.scalars(select(SigningKeyRecord)).one()
    record.pades_private_sealed = record.pades_certificate_pem = None  # a row of before
    db.session.flush()
    first = keys.pades_key(db.session, secret(app), "Ente di prova")
    again = keys.pades_key(db.session, secret(app), "Ente di prova")
    assert first.certificate_pem == again.certificate_pem
    assert keys.pades_certificates(db.session) == {record.key_id: first.certificate_pem}
    # a host that read the row before the other's update: its update changes nothing
    sealed, certificate = keys._pades_material(record.key_id, secret(app), "Altro host")
    loser = db.session.execute(
        SigningKeyRecord.__table__.update()
        .where(
            SigningKeyRecord.key_id == record.key_id,
            SigningKeyRecord.pades_private_sealed.is_(None),
        )
        .values(pades_private_sealed=sealed, pades_certificate_pem=certificate)
    )
    assert loser.rowcount == 0


def test_rotation_keeps_old_pades_certificates_valid(
    app: Flask, tmp_path: Path, make_user, complete
):
    old_pdf = pdf_bytes(app, complete(make_user()))
    before = dict(keys.pades_certificates(db.session))
    result = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "rotate"])
    assert result.exit_code == 0, result.output
    after = keys.pades_certificates(db.session)
    assert set(before) < set(after) and len(after) == len(before) + 1
    new_pdf = pdf_bytes(app, complete(make_user()))
    trust = keys.pades_trust(db.session)
    public = keys.public_keys(db.session)
    for data in (old_pdf, new_pdf):
        check = check_pdf(data, public, pades_trust=trust)
        assert check.outcome is Outcome.VALID and check.document is Page.SIGNED
        assert cli_verify(app, tmp_path, data).exit_code == 0
    old_signer = pyhanko_status(old_pdf, trust_roots()).signing_cert
    new_signer = pyhanko_status(new_pdf, trust_roots()).signing_cert
    assert old_signer.sha256 != new_signer.sha256
    listed = app.test_cli_runner().invoke(args=["lms", "certificates", "keys"])
    assert listed.exit_code == 0, listed.output
    for key_id, pem in after.items():
        assert key_id in listed.output
        assert pades.describe(key_id, pem).fingerprint in listed.output
    assert "Certificati PAdES" in listed.output and "corrente" in listed.output
    assert "validità / validity" in listed.output and "DID" in listed.output


def test_rewrap_rewraps_both_keys(app: Flask, genuine: bytes):
    new_secret = "another-secret-for-this-installation"
    assert keys.rewrap(db.session, secret(app), new_secret) >= 1
    for record in db.session.scalars(select(SigningKeyRecord)):
        if record.pades_private_sealed:
            keys.unseal_pades(record.pades_private_sealed, record.key_id, new_secret)
            with pytest.raises(keys.KeyStoreError):
                keys.unseal_pades(record.pades_private_sealed, record.key_id, secret(app))
    keys.rewrap(db.session, new_secret, secret(app))


def test_keys_json_lists_pades_certificates_with_caching(app: Flask, client, genuine: bytes):
    response = client.get("/certificates/keys.json")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 3600
    body = response.get_json()
    (current,) = [c for c in body["pades_certificates"] if c["current"]]
    assert current["key_id"] == body["current"] and current["self_issued"]
    assert "BEGIN CERTIFICATE" in current["certificate_pem"]
    again = client.get(
        "/certificates/keys.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    pem = client.get("/certificates/public-key.pem")
    assert pem.cache_control.max_age == 3600 and pem.headers.get("ETag")


def test_imported_e_seal_signs_from_then_on(app: Flask, tmp_path: Path, make_user, complete):
    """A trust service provider's certificate (a CA and an e-seal under it), imported."""
    old_pdf = pdf_bytes(app, complete(make_user()))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "QTSP di prova CA")])
    now = clock.now()
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=800))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Comune di Milano e-seal")])
    seal = (
        x509.CertificateBuilder()
        .subject_name(seal_name)
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=700))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tmp_path / "seal.key").write_bytes(
        seal_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "seal.pem").write_bytes(seal.public_bytes(pem))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    wrong = ["--key", str(tmp_path / "seal.key"), "--cert", str(tmp_path / "ca.pem")]
    refused = app.test_cli_runner().invoke(
        args=["lms", "certificates", "keys", "import-pades", *wrong]
    )
    assert refused.exit_code != 0 and "does not match" in refused.output
    args = ["--key", str(tmp_path / "seal.key"), "--cert", str(tmp_path / "seal.pem")]
    args += ["--chain", str(tmp_path / "ca.pem")]
    done = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "import-pades", *args])
    assert done.exit_code == 0, done.output
    new_pdf = pdf_bytes(app, complete(make_user()))
    status = pyhanko_status(new_pdf, trust_roots())
    assert status.bottom_line and status.signing_cert.subject.human_friendly.endswith("e-seal")
    trust = keys.pades_trust(db.session)
    for data in (old_pdf, new_pdf):
        check = check_pdf(data, keys.public_keys(db.session), pades_trust=trust)
        assert check.outcome is Outcome.VALID, check.detail


# --- PAdES B-T: a timestamp authority on the loopback ------------------------------------


def _tsa_credentials() -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TSA di prova")])
    now = clock.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    private = key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        asn1_x509.Certificate.load(certificate.public_bytes(der)),
        asn1_keys.PrivateKeyInfo.load(private),
    )


@contextmanager
def timestamp_authority() -> Iterator[tuple[str, asn1_x509.Certificate, list[int]]]:
    """pyHanko's DummyTimeStamper answering RFC 3161 requests over HTTP on 127.0.0.1."""
    certificate, key = _tsa_credentials()
    stamper = DummyTimeStamper(tsa_cert=certificate, tsa_key=key)
    served: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers["Content-Length"])
            request = tsp.TimeStampReq.load(self.rfile.read(min(length, 65536)))
            body = stamper.request_tsa_response(request).dump()
            served.append(len(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa", certificate, served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_timestamped_signature_with_a_configured_tsa(
    app: Flask, tmp_path: Path, make_user, complete
):
    cert = complete(make_user())
    with timestamp_authority() as (url, tsa_certificate, served):
        app.config["LMS_CERT_TSA_URL"] = url
        try:
            data = pdf_bytes(app, cert)
        finally:
            del app.config["LMS_CERT_TSA_URL"]
    assert served, "the TSA was asked"
    status = pyhanko_status(data, [*trust_roots(), tsa_certificate])
    assert status.bottom_line and status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    check = check_pdf(data, keys.public_keys(db.session), pades_trust=keys.pades_trust(db.session))
    assert check.outcome is Outcome.VALID and check.timestamped
    assert "Signature is Valid." in pdfsig(data, tmp_path)
    result = cli_verify(app, tmp_path, data)
    assert result.exit_code == 0 and "marca temporale" in result.output
    # without the TSA, certificates are signed again as B-B
    assert (
        check_pdf(
            pdf_bytes(app, cert),
            keys.public_keys(db.session),
            pades_trust=keys.pades_trust(db.session),
        ).timestamped
        is False
    )


# --- certificates issued before PAdES -------------------------------------------------


def legacy() -> tuple[bytes, Path]:
    return (DATA / "legacy-certificate.pdf").read_bytes(), DATA / "legacy-key.pem"


def test_old_certificate_still_verifies_offline(app: Flask, tmp_path: Path):
    data, key_file = legacy()
    assert b"/ByteRange" not in data  # made by the code of before: no PDF signature
    result = cli_verify(app, tmp_path, data, "--public-key", str(key_file))
    assert result.exit_code == 0, result.output
    assert "VALIDO / VALID" in result.output and "Giulia Bianchi" in result.output
    assert "Documento non controllato" in result.output


def test_old_certificate_on_this_installation_is_unconfirmed(
    app: Flask, tmp_path: Path, genuine: bytes
):
    """Its key is one of ours (imported from before): the signed data are genuine, the
    page cannot be confirmed; the page and the CLI say so and show what was signed."""
    data, key_file = legacy()
    public = keys.load_public_pem(key_file.read_bytes())
    lowest = db.session.scalar(select(SigningKeyRecord.generation).order_by("generation"))
    db.session.add(
        SigningKeyRecord(
            key_id=keys.key_id_of(public),
            generation=(lowest or 1) - 1,
            public_pem=keys.public_pem(public),
            private_sealed=None,
        )
    )
    db.session.commit()
    page = upload(app, data)
    assert 'data-outcome="unconfirmed"' in page
    assert "Giulia Bianchi" in page and "Accoglienza e orientamento delle donne" in page
    assert "Confronta questi dati" in page
    result = cli_verify(app, tmp_path, data)
    assert result.exit_code == 7, result.output
    assert "firma dei dati valida" in result.output and "PAdES" in result.output
    assert "Giulia Bianchi" in result.output


def test_a_timestamp_authority_that_does_not_answer_leaves_the_pdf_unstamped(
    app: Flask, make_user, complete
):
    cert = complete(make_user())
    with timestamp_authority() as (url, _certificate, _served):
        pass  # served and stopped: nothing listens there any more
    app.config["LMS_CERT_TSA_URL"] = url
    try:
        data = pdf_bytes(app, cert)
    finally:
        del app.config["LMS_CERT_TSA_URL"]
    check = check_pdf(data, keys.public_keys(db.session), pades_trust=keys.pades_trust(db.session))
    assert check.outcome is Outcome.VALID and not check.timestamped


def test_hosts_racing_for_the_pades_key_agree_on_one(tmp_path: Path):
    """A generation made before PAdES, two hosts' first PDFs at once: one certificate."""
    from lms.migrate import upgrade
    from tests.certificates.test_keys_store import fresh_installation
    from tests.conftest import make_test_app

    with fresh_installation(tmp_path) as (app, url):
        with app.app_context():
            upgrade(app)
            keys.ensure(db.session, app.config["LMS_SECRET_KEY"])  # no issuer: no PAdES yet
            db.session.commit()
        other = make_test_app(tmp_path / "host-b", url)

        def first_pdf(host: Flask) -> str:
            secret = host.config["LMS_SECRET_KEY"]
            issuer = host.config["LMS_CERT_ISSUER"]
            key = db.commit_with_retries(lambda: keys.pades_key(db.session, secret, issuer))
            return str(key.certificate_pem)

        got = race_hosts([other, app], first_pdf, 6)
        other.extensions["lms"].engine.dispose()
        assert len(set(got)) == 1
        with app.app_context():
            assert list(keys.pades_certificates(db.session).values()) == [got[0]]


def test_install_with_the_issuer_makes_the_pades_certificate(app: Flask, tmp_path: Path):
    keys.ensure(db.session, secret(app))
    for record in db.session.scalars(select(SigningKeyRecord)):
        record.pades_private_sealed = record.pades_certificate_pem = None
    db.session.flush()
    lines = keys.install(db.session, secret(app), tmp_path, issuer="Ente di prova")
    assert any("Certificato PAdES" in line for line in lines), lines
    made = keys.pades_key_ready(db.session, secret(app))
    assert made is not None and "Ente di prova" in pades.describe("x", made.certificate_pem).subject
    assert keys.install(db.session, secret(app), tmp_path, issuer="Ente di prova") == []


def test_exported_keys_check_the_document_without_a_database(
    app: Flask, tmp_path: Path, genuine: bytes
):
    out = tmp_path / "export"
    done = app.test_cli_runner().invoke(args=["lms", "certificates", "keys", "export", str(out)])
    assert done.exit_code == 0, done.output
    options: list[str] = []
    for path in sorted(out.glob("*.pub")):
        options += ["--public-key", str(path)]
    embedded_only = cli_verify(app, tmp_path, genuine, *options)
    assert embedded_only.exit_code == 0 and "Documento non controllato" in embedded_only.output
    for path in sorted(out.glob("*.pades.pem")):
        options += ["--pades-cert", str(path)]
    assert options.count("--pades-cert") >= 1
    result = cli_verify(app, tmp_path, genuine, *options)
    assert result.exit_code == 0 and "Documento integro" in result.output, result.output
    appended = genuine + b"\n% appended after signing\n"
    altered = cli_verify(app, tmp_path, appended, *options)
    assert altered.exit_code == 6, altered.output
