"""Accounts: creation, authentication with throttling, tokens, passwords.

Functions take plain values and a SQLAlchemy session; they never touch the
request. Callers commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import Enum

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms import audit, clock, throttle
from lms.accounts import throttling
from lms.accounts.emails import normalise_email
from lms.accounts.models import PROFESSIONAL_ID_LENGTH, SUPPORTED_LOCALES, Role, User, UserRole
from lms.errors import ServiceError
from lms.text import single_line

MIN_PASSWORD_LENGTH = 10
# A fixed hash to check against when the account does not exist, so that the
# response time does not tell which e-mail addresses are registered.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000")


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, salted (Werkzeug's default)


def check_password_strength(password: str, user: User | None = None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _("La password deve avere almeno %(n)d caratteri.", n=MIN_PASSWORD_LENGTH)
        )
    if user is not None and password.strip().lower() == user.email:
        raise ServiceError(_("La password non può coincidere con l'indirizzo e-mail."))


def get_user_by_email(db: Session, email: str) -> User | None:
    try:
        normalised = normalise_email(email)
    except ServiceError:
        return None
    return db.scalar(select(User).where(User.email == normalised))


def create_user(
    db: Session,
    email: str,
    full_name: str,
    *,
    password: str | None = None,
    roles: tuple[Role, ...] = (),
    locale: str = "it",
) -> User:
    email = normalise_email(email)
    full_name = single_line(full_name, what=_("Il nome"))  # TextError is a ServiceError
    if not full_name:
        raise ServiceError(_("Il nome e cognome è obbligatorio."))
    if locale not in SUPPORTED_LOCALES:
        raise ServiceError(_("Lingua non supportata: %(locale)s", locale=locale))
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise ServiceError(_("Esiste già un account con l'indirizzo %(email)s.", email=email))
    user = User(email=email, full_name=full_name, locale=locale)
    if password is not None:
        check_password_strength(password, user)
        user.password_hash = hash_password(password)
    for role in roles:
        user.roles.append(UserRole(role=str(role)))
    db.add(user)
    db.flush()
    return user


def grant_role(db: Session, user: User, role: Role, *, actor: User | None = None) -> None:
    if not user.has_role(role):
        user.roles.append(UserRole(role=str(role)))
        audit.record(
            db,
            "role.granted",
            actor=actor,
            object_type="user",
            object_id=user.id,
            subject_id=user.id,
            details={"role": str(role)},
        )
        db.flush()


class LoginOutcome(Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"  # refused before the password was checked: wait and retry


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    retry_after: int = 0  # seconds, when THROTTLED


def authenticate(
    db: Session,
    email: str,
    password: str,
    remote_addr: str,
    policy: throttling.LoginPolicy,
    *,
    device: str | None = None,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check credentials unless this attempt must first wait (``lms.accounts.throttling``).

    ``device`` is the nonce of a valid device cookie this browser holds for the typed
    account: it is counted on its own and exempt from the pair, account and address
    counters. A delayed attempt is refused without checking the password, the same
    way for unknown and known accounts; unknown and wrong are indistinguishable.
    """
    now = now or clock.now()
    account = throttling.account_key(email)
    address = throttle.address_key(remote_addr)
    wait = throttling.login_wait(db, account, address, device, policy, now)
    if wait:
        known = get_user_by_email(db, email)
        audit.record(
            db,
            "login.failed",
            subject_id=known.id if known else None,
            details={"throttled": True, "retry_after": wait},
            at=now,
        )
        return LoginResult(LoginOutcome.THROTTLED, retry_after=wait)

    user = get_user_by_email(db, email)
    password_ok = check_password_hash(
        user.password_hash if user is not None and user.password_hash else _DUMMY_HASH, password
    )
    if user is None or not user.password_hash or not password_ok or not user.active:
        throttling.record_login_failure(db, account, address, device, now)
        audit.record(
            db,
            "login.failed",
            subject_id=user.id if user else None,
            details={"throttled": False},
            at=now,
        )
        return LoginResult(LoginOutcome.INVALID)

    throttling.forget_login_failures(db, account, address, device)
    user.last_login_at = now
    audit.record(db, "login", actor=user, subject_id=user.id, at=now)
    return LoginResult(LoginOutcome.OK, user)


def signed_in_by_link(db: Session, user: User, remote_addr: str, device: str | None) -> None:
    """A reset or invitation link was used: the person controls the mailbox, so every
    delay on the account goes (a locked-out person always gets in this way)."""
    throttling.forget_login_failures(
        db,
        throttling.account_key(user.email),
        throttle.address_key(remote_addr),
        device,
        whole_account=True,
    )
    user.last_login_at = clock.now()


def may_reset_password(user: User | None) -> bool:
    """Active accounts, and those put to sleep for inactivity (never erased ones)."""
    return user is not None and (user.active or user.is_dormant)


def reactivate(db: Session, user: User, *, actor: User | None, via: str) -> None:
    """Wake an account that retention put to sleep; inactivity counts again from now."""
    if not user.is_dormant:
        raise ServiceError(_("Questo account non è sospeso per inattività."))
    user.active = True
    user.dormant_since = None
    user.reactivated_at = clock.now()
    audit.record(
        db,
        "account.reactivated",
        actor=actor,
        object_type="user",
        object_id=user.id,
        subject_id=user.id,
        details={"via": via},
    )
    db.flush()


def change_password(db: Session, user: User, current: str, new: str) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise ServiceError(_("La password attuale non è corretta."))
    set_password(db, user, new)
    audit.record(db, "password.changed", actor=user, subject_id=user.id)


def set_password(db: Session, user: User, new: str) -> None:
    """Set a password and end every other session of the user."""
    check_password_strength(new, user)
    user.password_hash = hash_password(new)
    user.rotate_session_token()
    db.flush()


# --- Signed tokens (password reset, invitation) --------------------------------
# A token names the user and a fingerprint of their current password hash and
# session token: once the password is set or changed, every older token fails.

RESET_SALT = "lms.password-reset"
INVITE_SALT = "lms.invitation"


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash or ''}|{user.session_token}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def make_token(secret_key: str, salt: str, user: User) -> str:
    serializer = URLSafeTimedSerializer(secret_key, salt=salt)
    return serializer.dumps({"uid": user.id, "fp": _fingerprint(user)})


class TokenError(ServiceError):
    pass


def read_token(
    db: Session,
    secret_key: str,
    salt: str,
    token: str,
    max_age: int,
    *,
    allow_dormant: bool = False,
) -> User:
    """The user a token names, if it is still theirs. ``allow_dormant`` lets an account
    put to sleep for inactivity through (the reset link is its way back)."""
    serializer = URLSafeTimedSerializer(secret_key, salt=salt)
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(_("Il link è scaduto: chiedine uno nuovo.")) from exc
    except BadSignature as exc:
        raise TokenError(_("Il link non è valido.")) from exc
    if not isinstance(data, dict):
        raise TokenError(_("Il link non è valido."))
    user = db.get(User, data.get("uid"))
    usable = user is not None and (user.active or (allow_dormant and user.is_dormant))
    if user is None or not usable or data.get("fp") != _fingerprint(user):
        raise TokenError(_("Il link non è più valido: è già stato usato o è stato sostituito."))
    return user


def set_professional_id(db: Session, user: User, value: str | None) -> None:
    """The person's own professional identifier (codice fiscale or registration number),
    on one line and at most 40 characters; empty removes it."""
    cleaned = single_line(value or "", what=_("Il codice"))
    if len(cleaned) > PROFESSIONAL_ID_LENGTH:
        raise ServiceError(
            _("Il codice può avere al massimo %(n)d caratteri.", n=PROFESSIONAL_ID_LENGTH)
        )
    if (cleaned or None) == user.professional_id:
        return
    user.professional_id = cleaned or None
    audit.record(
        db,
        "profile.changed",
        actor=user,
        subject_id=user.id,
        details={"field": "professional_id"},
    )
