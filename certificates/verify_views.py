"""Public verification: by code (the QR target), by uploaded PDF, the machine-readable
status, and the installation's public keys. Look-ups are throttled per address through
the database, so every worker counts against the same limit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from certificates import codes, keys, pades, verification
from certificates.blueprint import bp
from certificates.config import expiring_days
from certificates.forms import MAX_UPLOAD_BYTES, CodeForm, UploadForm
from lms import clock, db
from lms.authz import public
from lms.limits import body_limit


def lookup_allowed_here() -> bool:
    config = current_app.config
    allowed = verification.lookup_allowed(
        db.session,
        request.remote_addr or "-",
        limit=int(config["LMS_CERT_VERIFY_LIMIT"]),
        window=dt.timedelta(seconds=int(config["LMS_CERT_VERIFY_WINDOW_SECONDS"])),
    )
    db.session.commit()
    return allowed


def throttled_message() -> str:
    return _("Troppe verifiche da questo indirizzo. Riprova tra qualche minuto.")


def verify_page(http_status: int = 200, **context: Any) -> Any:
    context.setdefault("code_form", CodeForm())
    context.setdefault("upload_form", UploadForm())
    return render_template("certificates/verify.html", **context), http_status


@bp.route("/verify", methods=["GET", "POST"])
@public
def verify() -> Any:
    form = CodeForm()
    if form.validate_on_submit():
        code = codes.normalise(form.code.data)
        if code is None:
            form.code.errors.append(_("Il codice non ha il formato atteso (28 caratteri)."))
        else:
            return redirect(url_for("certificates.verify_code", code=codes.grouped(code)))
    return verify_page(code_form=form)


@bp.route("/verify/<code>")
@public
def verify_code(code: str) -> Any:
    """The QR target: holder, course, dates and status; revoked told apart from unknown."""
    if not lookup_allowed_here():
        return verify_page(429, throttled=throttled_message())
    cert = verification.find_by_code(db.session, code)
    status = cert.status(clock.now(), expiring_days()) if cert else None
    return render_template("certificates/verify_code.html", cert=cert, status=status, code=code), (
        200 if cert else 404
    )


@bp.route("/api/status/<code>")
@public
def status_json(code: str) -> Any:
    """Machine-readable status, for ``lms certificates verify --online``."""
    if not lookup_allowed_here():
        return jsonify(error=429, message=throttled_message()), 429
    cert = verification.find_by_code(db.session, code)
    if cert is None:
        return jsonify(status="unknown"), 404
    status = cert.status(clock.now(), expiring_days())
    return jsonify(
        status=status.value,
        serial=cert.serial,
        revoked_at=cert.revoked_at.isoformat() if cert.revoked_at else None,
        expires_at=cert.expires_at.isoformat() if cert.expires_at else None,
    )


@bp.route("/verify/upload", methods=["POST"])
@public
@body_limit(MAX_UPLOAD_BYTES)
def verify_upload() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        return verify_page(400, upload_form=form)
    if not lookup_allowed_here():
        return verify_page(429, throttled=throttled_message())
    data = form.document.data.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        form.document.errors.append(
            _("Il file è troppo grande (massimo %(mb)d MB).", mb=MAX_UPLOAD_BYTES >> 20)
        )
        return verify_page(413, upload_form=form)
    check = verification.check_pdf(
        data,
        keys.public_keys(db.session),
        now=clock.now(),
        pades_trust=keys.pades_trust(db.session),
    )
    if check.outcome is verification.Outcome.UNREADABLE:
        return verify_page(422, check=check)
    cert = verification.find_signed(db.session, check.payload) if check.genuine_payload else None
    status = cert.status(clock.now(), expiring_days()) if cert else None
    return verify_page(check=check, cert=cert, status=status)


def current_key_id() -> str:
    """The signing key's id; on a database ``lms init-db`` never saw, the installation's
    first key is created (committed, retried if another host races)."""
    secret = current_app.config["LMS_SECRET_KEY"]
    return str(db.commit_with_retries(lambda: keys.current_key_id(db.session, secret)))


KEYS_MAX_AGE = 3600  # seconds: a rotation reaches caches within the hour


def cached_for_everyone(
    response: Response, max_age: int = KEYS_MAX_AGE, *, cors: bool = False
) -> Response:
    """A document the same for every reader (keys, DID document, status list): cacheable
    by all for ``max_age`` seconds, revalidated by ETag (304 when it matches)."""
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    if cors:
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/public-key.pem")
@public
def public_key() -> Any:
    """The current public key (stable URL); older ones are in keys.json."""
    key_id = current_key_id()
    pem = keys.public_pem(keys.public_keys(db.session)[key_id])
    return cached_for_everyone(Response(pem, mimetype="application/x-pem-file"))


@bp.route("/keys.json")
@public
def keys_json() -> Any:
    """Every Ed25519 key and every PAdES certificate the installation signed with."""
    current = current_key_id()
    certificates = [
        pades.describe(key_id, pem) for key_id, pem in keys.pades_certificates(db.session).items()
    ]
    body = {
        "issuer": current_app.config["LMS_CERT_ISSUER"],
        "algorithm": "Ed25519",
        "current": current,
        "keys": [
            {"key_id": key_id, "public_key_pem": keys.public_pem(key)}
            for key_id, key in keys.public_keys(db.session).items()
        ],
        "pades_certificates": [
            {
                "key_id": info.key_id,
                "current": info.key_id == current,
                "subject": info.subject,
                "issuer": info.issuer,
                "self_issued": info.self_issued,
                "sha256_fingerprint": info.fingerprint,
                "not_before": info.not_before.isoformat(),
                "not_after": info.not_after.isoformat(),
                "certificate_pem": info.pem,
            }
            for info in certificates
        ],
    }
    text = json.dumps(body, ensure_ascii=False, indent=2)
    return cached_for_everyone(Response(text, mimetype="application/json"))
