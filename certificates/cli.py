"""``lms certificates ...``: offline verification, keys, reminders, re-issue, revocation."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy import select

from certificates import accreditation, codes, keys, pades, signing
from certificates.attachments import MAX_PDF_BYTES
from certificates.config import external_url, issuer_settings, parse_days, renewal_url
from certificates.keys_cli import keys_group
from certificates.models import Certificate
from certificates.verification import Outcome, Page, PdfCheck, check_pdf
from lms.text import visible

# Documented in docs/certificates.md; scripts rely on them, so new outcomes get new numbers.
EXIT = {
    "valid": 0,
    "signature_invalid": 1,
    "not_issued_here": 2,
    "expired": 3,
    "revoked": 4,
    "unreadable": 5,
    "altered": 6,  # signed data genuine, the document changed (PDF signature, page text)
    "unconfirmed": 7,  # signed data genuine, an old PDF without a PDF signature
}
ALTERED_WHY = {
    Page.BROKEN: "firma PDF non valida o modifiche dopo la firma / PDF signature broken "
    "or changes after signing",
    Page.TEXT: "la pagina non riporta il nome e il titolo firmati / the page does not show "
    "the signed name and title",
    Page.MISSING: "firma PDF assente su un attestato rilasciato quando la piattaforma già "
    "firmava i PDF / PDF signature missing",
}


@click.group("certificates", help="Attestati: verifica, chiavi, promemoria.")
def group() -> None:
    pass


group.add_command(keys_group)


def _date(value: str | None) -> str:
    moment = signing.parse_timestamp(value)
    return moment.date().isoformat() if moment else "-"


def _print_details(check: PdfCheck) -> None:
    """Fields of the signed payload, each on one line: line breaks and control
    characters in a name or title are shown as escapes (``\\n``), never printed."""
    p = {key: visible(value) for key, value in check.payload.items()}
    click.echo(
        "Dati firmati (confrontali con il documento) / signed details (compare them "
        "with the document):"
    )
    click.echo(f"  Titolare / holder: {p.get('holder')}")
    if check.payload.get("organisation"):
        click.echo(f"  Organizzazione / organisation: {p.get('organisation')}")
    click.echo(f"  Titolo / title: {p.get('title')} ({p.get('version')})")
    hours = check.payload.get("hours")
    if isinstance(hours, int | float) and not isinstance(hours, bool):
        click.echo(f"  Ore / hours: {hours:g}")
    if check.payload.get("credits"):
        click.echo(f"  Crediti / credits: {p.get('credits')}")
    click.echo(f"  Completato / completed: {_date(check.payload.get('completed'))}")
    click.echo(f"  Rilasciato / issued: {_date(check.payload.get('issued'))}")
    tracked = check.payload.get("tracked_seconds")
    if isinstance(tracked, int) and not isinstance(tracked, bool):
        hours, minutes = accreditation.hours_minutes(tracked)
        click.echo(f"  Tempo di studio / study time: {hours} h {minutes} min")
    found = accreditation.read(check.payload.get("accreditation"))
    if found is not None:
        credits = found.credits if found.covered else "-"
        click.echo(
            f"  Accreditamento / accreditation: {visible(found.body)}, "
            f"{visible(found.provider)}, {visible(found.event)}, {credits}"
        )
    click.echo(f"  Scadenza / expires: {_date(check.payload.get('expires'))}")
    click.echo(f"  Numero / serial: {p.get('serial')}")
    click.echo(f"  Ente / issuer: {p.get('issuer')}")


def _online_status(site: str, code: str) -> str | None:
    """The platform's status for ``code`` (revoked, ...); None if it cannot be reached."""
    with current_app.test_request_context():
        path = url_for("certificates.status_json", code=code)
    try:
        with urllib.request.urlopen(site.rstrip("/") + path, timeout=10) as response:
            return json.loads(response.read()).get("status")
    except urllib.error.HTTPError as error:
        return "unknown" if error.code == 404 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _read_bounded(path: Path) -> bytes:
    """At most MAX_PDF_BYTES + 1 bytes: enough to tell a file that is too big."""
    with path.open("rb") as handle:
        return handle.read(MAX_PDF_BYTES + 1)


def _unreadable(why: str) -> NoReturn:
    click.echo(f"NON LEGGIBILE / UNREADABLE: il file non è leggibile come attestato ({why}).")
    sys.exit(EXIT["unreadable"])


@group.command("verify")
@click.argument("pdf_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Chiave pubblica PEM (ripetibile). Predefinite: quelle dell'installazione (database).",
)
@click.option(
    "--pades-cert",
    "pades_cert_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Certificato PAdES PEM (ripetibile) per controllare il documento con --public-key.",
)
@click.option("--online", is_flag=True, help="Chiedi alla piattaforma se è stato revocato.")
@click.option("--site", help="Indirizzo della piattaforma per --online (predefinito LMS_BASE_URL).")
@with_appcontext
def verify(
    pdf_file: Path,
    public_key_files: tuple[Path, ...],
    pades_cert_files: tuple[Path, ...],
    online: bool,
    site: str | None,
) -> None:
    """Check a certificate PDF (no database with --public-key; no network unless --online).

    Exit status: 0 valid, 1 signature invalid, 2 not issued here, 3 expired,
    4 revoked (only with --online), 5 file not readable as a certificate,
    6 document altered (signed data genuine, PDF signature broken or missing, or the
    page changed), 7 signed data genuine but an old PDF without a PDF signature.
    """
    trust = None
    if public_key_files:
        public = {}
        for path in public_key_files:
            key = keys.load_public_pem(path.read_bytes())
            public[keys.key_id_of(key)] = key
        if pades_cert_files:
            trust = pades.trust(tuple(path.read_text("ascii") for path in pades_cert_files))
    else:
        from lms import db

        public = keys.public_keys(db.session)
        trust = keys.pades_trust(db.session)
    try:
        data = _read_bounded(pdf_file)
    except OSError as error:
        _unreadable(error.strerror or type(error).__name__)
    check = check_pdf(data, public, pades_trust=trust)
    if check.outcome is Outcome.UNREADABLE:
        _unreadable(check.detail)
    if check.outcome is Outcome.NOT_ISSUED_HERE:
        key = visible(check.key_id) if check.key_id else None
        why = f"chiave sconosciuta {key}" if key else "nessun dato firmato"
        click.echo(f"NON EMESSO QUI / NOT ISSUED HERE: {why}.")
        sys.exit(EXIT["not_issued_here"])
    if check.outcome is Outcome.SIGNATURE_INVALID:
        click.echo("FIRMA NON VALIDA / SIGNATURE INVALID: il contenuto è stato alterato.")
        sys.exit(EXIT["signature_invalid"])
    key_id = visible(check.key_id)
    if check.outcome is Outcome.ALTERED:
        click.echo(f"DOCUMENTO ALTERATO / DOCUMENT ALTERED: {ALTERED_WHY[check.document]}.")
        click.echo(
            f"  I dati firmati sono autentici (chiave {key_id}), il documento no: valgono "
            "solo i dati qui sotto / the signed data are genuine, the document is not."
        )
        _print_details(check)
        sys.exit(EXIT["altered"])
    if check.outcome is Outcome.UNCONFIRMED:
        click.echo(
            f"DOCUMENTO NON CONFERMABILE / DOCUMENT UNCONFIRMED: firma dei dati valida "
            f"(chiave {key_id}), firma PDF (PAdES) assente / embedded signature valid, "
            "PAdES signature missing."
        )
        click.echo(
            "  PDF scaricato prima della firma dei documenti: verificare con il codice o "
            "scaricarne una copia aggiornata / downloaded before documents were signed: "
            "check the code or download a fresh copy."
        )
        _print_details(check)
        sys.exit(EXIT["unconfirmed"])
    if check.outcome is not Outcome.VALID:  # an outcome this command does not know yet
        raise click.ClickException(f"esito sconosciuto: {check.outcome}")
    click.echo(f"VALIDO / VALID: firma verificata (chiave {key_id}).")
    if check.document is Page.SIGNED:
        stamp = " con marca temporale / timestamped" if check.timestamped else ""
        click.echo(f"  Documento integro: firma PDF (PAdES) valida{stamp} / PAdES signature valid.")
    else:
        click.echo(
            "  Documento non controllato (PAdES): indicare --pades-cert / document not "
            "checked: give --pades-cert."
        )
    _print_details(check)
    result = "valid"
    if check.expired:
        click.echo(f"SCADUTO / EXPIRED il {_date(check.payload.get('expires'))}.")
        result = "expired"
    code = str(check.payload.get("code", ""))
    if online:
        status = _online_status(site or current_app.config["LMS_BASE_URL"], code)
        if status is None:
            click.echo("Piattaforma non raggiungibile: revoca non controllata.")
        elif status == "revoked":
            click.echo("REVOCATO / REVOKED: la piattaforma lo indica come revocato.")
            result = "revoked"
        else:
            click.echo(f"Stato sulla piattaforma / platform status: {visible(status)}.")
    else:
        url = external_url("certificates.verify_code", code=code)
        click.echo(f"Revoca non controllata (senza rete): {url}")
    sys.exit(EXIT[result])


@group.command("remind")
@click.option("--days", default=None, help="Soglie in giorni prima della scadenza, es. 60,30,7.")
@with_appcontext
def remind(days: str | None) -> None:
    """E-mail holders (and their referents) before expiry; once per threshold (cron)."""
    from certificates.reminders import send_reminders
    from lms import db

    try:
        thresholds = parse_days(days or current_app.config["LMS_CERT_REMINDER_DAYS"])
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--days") from error
    report = send_reminders(
        db.session, thresholds, link=external_url("lms.home"), renewal_link=renewal_url
    )
    db.session.commit()
    click.echo(
        f"Promemoria inviati: {report.reminders}; riepiloghi ai referenti: {report.digests}; "
        f"non inviati per errore: {report.failed}."
    )
    if report.failed:  # each failure is in the log; the next run tries the reminders again
        raise SystemExit(1)


def _by_serial(serial: str) -> Certificate:
    from lms import db

    cert = db.session.scalar(select(Certificate).where(Certificate.serial == serial))
    if cert is None:
        raise click.ClickException(f"Attestato non trovato: {serial}")
    return cert


@group.command("reissue")
@click.argument("serial")
@with_appcontext
def reissue_command(serial: str) -> None:
    """Re-issue with the holder's current name; the old one is revoked ("reissued")."""
    from certificates.issuing import reissue
    from lms import db
    from lms.errors import ServiceError

    try:
        new = reissue(db.session, _by_serial(serial), issuer_settings())
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Nuovo attestato {new.serial} (codice {codes.grouped(new.code)}).")


@group.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True, help="Motivo della revoca.")
@with_appcontext
def revoke_command(serial: str, reason: str) -> None:
    """Revoke a certificate (audit-logged); the verify page will say so."""
    from certificates.issuing import revoke
    from lms import db
    from lms.errors import ServiceError

    try:
        revoke(db.session, _by_serial(serial), reason, actor=None)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Attestato {serial} revocato.")
