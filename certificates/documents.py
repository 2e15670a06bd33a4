"""App-bound glue for documents: the PDF a person downloads, the referent's ZIP.

Kept apart from ``pdf`` (which knows nothing of Flask) so that the drawing
code can be timed and tested on plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import current_app
from flask_babel import gettext as _

from certificates import codes, export, fonts, keys, pades, pdf
from certificates.config import verify_url
from certificates.listing import Row
from certificates.models import Certificate
from lms import db


def tsa_url() -> str | None:
    """The timestamp authority (RFC 3161) for PAdES B-T; unset: B-B, no timestamp."""
    url = current_app.config.get("LMS_CERT_TSA_URL")  # from the environment: certificates.config
    return str(url) if url else None


def sealer() -> pades.Sealer:
    """The PDF signer of the current key generation; a generation from before PAdES gets
    its key and self-issued certificate here, committed at once (every host then signs
    with the same one)."""
    secret = current_app.config["LMS_SECRET_KEY"]
    key = keys.pades_key_ready(db.session, secret)
    if key is None:
        issuer = current_app.config["LMS_CERT_ISSUER"]
        key = db.commit_with_retries(lambda: keys.pades_key(db.session, secret, issuer))
    return pades.sealer(key.private_key, key.certificate_pem, tsa_url())


def render_options(cert: Certificate) -> pdf.RenderOptions:
    return pdf.RenderOptions(
        verify_url=verify_url(cert.code),
        locale=cert.user.locale,
        font_path=fonts.certificate_font(current_app.instance_path),
        sealer=sealer(),
    )


def certificate_pdf(cert: Certificate) -> bytes:
    """The signed PDF, in the holder's language."""
    return pdf.render(cert, render_options(cert))


def zip_chunks(rows: list[Row], on_pdf: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """An index (CSV) then one PDF per certificate, drawn as the stream goes.

    The stream outlives the view's database session, so the index is built
    now from plain values and each certificate is loaded again by id when its
    turn comes (and let go of after).
    """
    header = [
        _("Numero"),
        _("Nome"),
        _("Titolo"),
        _("Versione"),
        _("Ore"),
        _("Completato il"),
        _("Scadenza"),
        _("Stato"),
        _("Codice di verifica"),
        _("File"),
    ]
    index = [
        [
            c.serial,
            c.holder_name,
            c.title,
            c.version_label,
            "" if c.printed_hours is None else f"{c.hours:g}",
            c.completed_at.date().isoformat(),
            c.expires_at.date().isoformat() if c.expires_at else "",
            row.status.value,
            codes.grouped(c.code),
            pdf.filename(c),
        ]
        for row in rows
        for c in (row.certificate,)
    ]
    entries = [export.Entry("indice.csv", lambda: export.csv_bytes(header, index))]
    entries += [
        export.Entry(line[-1], _producer(row.certificate.id, number, on_pdf))
        for number, (row, line) in enumerate(zip(rows, index, strict=True), start=1)
    ]
    return export.stream_zip(entries)


def _producer(
    cert_id: int, number: int, on_pdf: Callable[[int], None] | None
) -> Callable[[], bytes]:
    def produce() -> bytes:
        cert = db.session.get(Certificate, cert_id)
        if cert is None:  # deleted while streaming: skip its content, keep the name
            return b""
        data = certificate_pdf(cert)
        db.session.expunge(cert)
        if on_pdf is not None:
            on_pdf(number)
        return data

    return produce
