"""Open Badges 3.0 on the web: the issuer's DID document and profile, the revocation
status list, each credential's public page, and the holder's "add to wallet".

Public documents carry caching headers (``Cache-Control: public``, an ETag, 304 on a
match) and ``Access-Control-Allow-Origin: *``, as wallets and verifiers fetch them from
a browser; HTML pages are never cached by shared caches (they carry the visitor's CSRF
token and menu). A credential is made (signed and stored) only by the holder's POST:
every GET here reads what is stored, so that a visit never issues anything.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import Length, Optional, Regexp

from certificates import baking, codes, did, openbadges, status_list, verification
from certificates.blueprint import bp
from certificates.config import expiring_days
from certificates.fonts import certificate_font
from certificates.models import Certificate, OpenBadge
from certificates.verify_views import (
    cached_for_everyone,
    current_key_id,
    lookup_allowed_here,
    throttled_message,
)
from lms import clock, db
from lms.authz import authenticated, public
from lms.downloads import attachment
from lms.errors import ServiceError
from lms.i18n import lazy_gettext as _l

# Media types. OB 3.0 ("Web Resource"): JSON-LD for a credential with an embedded proof,
# text/plain for its VC-JWT; the VC data model's own types are honoured when asked for.
JSON_LD = "application/ld+json"
JSON_TYPES = (JSON_LD, "application/vc+ld+json", "application/vc", "application/json")
JWT_TYPES = ("application/vc+jwt", "application/jwt")
DID_JSON = "application/did+json"

DOCUMENT_MAX_AGE = 3600  # the DID document and the profile change when keys rotate
STATUS_MAX_AGE = 300  # the status list: a revocation reaches verifiers within minutes
CREDENTIAL_MAX_AGE = 300  # the public page shows the status too

# W3C DID syntax: "did:" method-name ":" method-specific-id (idchar or pct-encoded,
# colon-separated); bounded by the column that stores it.
MAX_DID_LENGTH = 255
DID_SYNTAX = re.compile(
    r"did:[a-z0-9]+:(?:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+"
)
# A holder may give a few DIDs (wallets differ); each one is a signed, stored credential.
MAX_DIDS_PER_CERTIFICATE = 5


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class WalletForm(FlaskForm):
    did = StringField(
        _l("Il tuo DID (facoltativo)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=MAX_DID_LENGTH),
            Regexp(
                rf"^{DID_SYNTAX.pattern}$",
                message=_l("Non è un DID valido: inizia con «did:», ad esempio did:key:z6Mk…"),
            ),
        ],
        description=_l(
            "Se il tuo wallet ti ha dato un identificativo decentralizzato (DID), la "
            "credenziale sarà intestata a quello; altrimenti all'impronta della tua e-mail."
        ),
    )


# --- Response helpers ----------------------------------------------------------------


def _json(body: dict[str, Any] | str, mimetype: str) -> Response:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=2)
    return Response(text, mimetype=mimetype)


# --- The issuer ----------------------------------------------------------------------


@bp.route("/did.json")
@public
def did_document() -> Any:
    """did:web resolution of ``did.issuer_id()``: its keys, current and older (on a
    database ``lms init-db`` never saw, the first key is made, as for keys.json)."""
    current_key_id()
    return cached_for_everyone(
        _json(did.document(db.session), DID_JSON), DOCUMENT_MAX_AGE, cors=True
    )


@bp.route("/issuer")
@public
def issuer_profile() -> Any:
    return cached_for_everyone(_json(did.issuer_profile(), JSON_LD), DOCUMENT_MAX_AGE, cors=True)


@bp.route("/credentials/status/revocation")
@public
def revocation_list() -> Any:
    """The signed BitstringStatusListCredential: one bit per credential, set on revocation."""
    body = status_list.credential(db.session)
    return cached_for_everyone(_json(body, JSON_LD), STATUS_MAX_AGE, cors=True)


@bp.route("/achievements/<key>/<path:version>")  # a version may hold a "/"
@public
def achievement(key: str, version: str) -> Any:
    """What a course version attests (the credentials' ``achievement.id``), as JSON-LD:
    from its latest certificate not revoked; 404 when there is none."""
    cert = db.session.scalar(
        select(Certificate)
        .where(
            Certificate.key == key,
            Certificate.version_label == version,
            Certificate.revoked_at.is_(None),
        )
        .order_by(Certificate.id.desc())
        .limit(1)
    )
    if cert is None:
        abort(404)
    body = {"@context": list(openbadges.CONTEXTS), **openbadges.achievement(cert)}
    return cached_for_everyone(_json(body, JSON_LD), DOCUMENT_MAX_AGE, cors=True)


# --- The public credential page ------------------------------------------------------


def _stored(cert: Certificate, subject: str | None = None) -> OpenBadge | None:
    return db.session.scalar(
        select(OpenBadge).where(
            OpenBadge.certificate_id == cert.id, OpenBadge.subject_id == (subject or "")
        )
    )


def _wanted() -> str:
    """``html``, ``json`` or ``jwt``: ``?format=`` first, then the Accept header."""
    asked = request.args.get("format", "")
    if asked in ("json", "jwt"):
        return asked
    best = request.accept_mimetypes.best_match(
        ("text/html", *JSON_TYPES, *JWT_TYPES), default="text/html"
    )
    return "json" if best in JSON_TYPES else "jwt" if best in JWT_TYPES else "html"


def _json_mimetype() -> str:
    return str(request.accept_mimetypes.best_match(JSON_TYPES, default=JSON_LD))


@bp.route("/credentials/<code>")
@public
def credential(code: str) -> Any:
    """The credential's id: a page for people, its JSON (or VC-JWT) for programs."""
    wanted = _wanted()
    if not lookup_allowed_here():
        if wanted == "html":
            return render_template(
                "certificates/credential.html", throttled=throttled_message()
            ), 429
        return _json({"error": 429, "message": throttled_message()}, "application/json"), 429
    cert = verification.find_by_code(db.session, code)
    subject = request.args.get("did", "")[: MAX_DID_LENGTH + 1]  # a DID badge's own id
    badge = _stored(cert, subject) if cert is not None else None
    if wanted != "html":
        if badge is None:
            return _json({"error": 404}, "application/json"), 404
        if wanted == "json":
            response = _json(badge.credential, _json_mimetype())
        else:
            jwt_type = request.accept_mimetypes.best_match(JWT_TYPES)
            response = Response(badge.jwt, mimetype=jwt_type or "text/plain")
        response.last_modified = badge.created_at
        response.vary.add("Accept")
        return cached_for_everyone(response, CREDENTIAL_MAX_AGE, cors=True)
    if cert is None:
        return render_template("certificates/credential.html", cert=None, code=code), 404
    status = cert.status(clock.now(), expiring_days())
    response = Response(
        render_template(
            "certificates/credential.html",
            cert=cert,
            status=status,
            code=codes.grouped(cert.code),
            badge=badge,
            achievement=_achievement(badge),
            issuer_id=did.issuer_id(),
        )
    )
    # Not cached by shared caches: the page carries the visitor's own parts (the CSRF
    # token of the language form, the signed-in person's menu).
    response.vary.add("Accept")
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def _achievement(badge: OpenBadge | None) -> dict[str, Any]:
    """The signed achievement (name, description, criteria), for the page to show."""
    if badge is None:
        return {}
    subject = openbadges.credential_json(badge).get("credentialSubject") or {}
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    return achievement if isinstance(achievement, dict) else {}


# --- The holder: add to wallet -------------------------------------------------------


def _own_certificate(cert_id: int) -> Certificate:
    """The signed-in holder's certificate, not revoked nor superseded; 404 otherwise (an
    admin too: a credential is the holder's to take)."""
    cert = db.session.get(Certificate, cert_id)
    if cert is None or cert.user_id != current_user.id:
        abort(404)
    if cert.revoked_at is not None or cert.superseded_at is not None:
        abort(404)
    return cert


def _badges_of(cert: Certificate) -> list[OpenBadge]:
    return list(
        db.session.scalars(
            select(OpenBadge)
            .where(OpenBadge.certificate_id == cert.id)
            .order_by(OpenBadge.subject_id, OpenBadge.id)
        )
    )


def _did_count(cert: Certificate) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(OpenBadge)
            .where(OpenBadge.certificate_id == cert.id, OpenBadge.subject_id != "")
        )
        or 0
    )


@bp.route("/<id:cert_id>/wallet", methods=["GET", "POST"])
@authenticated
def credential_wallet(cert_id: int) -> Any:
    """GET: the holder's credentials of this certificate, to download. POST: make one
    (for the e-mail's hash, or for the DID given), then back here to download it."""
    cert = _own_certificate(cert_id)
    form = WalletForm()
    if form.validate_on_submit():
        subject = form.did.data or None
        if (
            subject
            and _stored(cert, subject) is None
            and _did_count(cert) >= (MAX_DIDS_PER_CERTIFICATE)
        ):
            form.did.errors.append(
                _(
                    "Hai già indicato %(n)d DID per questo attestato: non se ne possono "
                    "aggiungere altri.",
                    n=MAX_DIDS_PER_CERTIFICATE,
                )
            )
        else:
            try:
                db.commit_with_retries(
                    lambda: openbadges.badge_for(db.session, cert, subject_did=subject)
                )
            except ServiceError as error:
                db.session.rollback()
                form.did.errors.append(str(error))
            else:
                flash(_("La credenziale è pronta: scaricala per il tuo wallet."), "success")
                return redirect(
                    url_for("certificates.credential_wallet", cert_id=cert.id) + "#credenziali"
                )
    badges = _badges_of(cert)
    return render_template(
        "certificates/credential_wallet.html",
        cert=cert,
        status=cert.status(clock.now(), expiring_days()),
        badges=badges,
        form=form,
    )


@bp.route("/<id:cert_id>/credential.<any(json,jwt,png,svg):fmt>")
@authenticated
def credential_download(cert_id: int, fmt: str) -> Any:
    """A stored credential: as JSON, as VC-JWT, or baked into a PNG or SVG badge.
    ``?did=`` picks the one made for that DID (else the e-mail's hash)."""
    cert = _own_certificate(cert_id)
    subject = request.args.get("did", "")[: MAX_DID_LENGTH + 1]
    badge = _stored(cert, subject)
    if badge is None:
        abort(404)
    name = f"{cert.serial}-open-badge"
    if fmt == "json":
        return attachment(badge.credential, f"{name}.json", JSON_LD)
    if fmt == "jwt":
        return attachment(badge.jwt, f"{name}.jwt", "text/plain")
    if fmt == "png":
        font = certificate_font(current_app.instance_path)
        image = baking.badge_png(cert.title, cert.version_label, cert.issuer, font)
        return attachment(baking.bake_png(image, badge.jwt), f"{name}.png", "image/png")
    svg = baking.badge_svg(cert.title, cert.version_label, cert.issuer, badge.jwt)
    return attachment(svg, f"{name}.svg", "image/svg+xml")
