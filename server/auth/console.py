"""Staff sign-in to the office console: passwords (Argon2id), TOTP codes, and revocable
server-side sessions whose cookie is stored only as its SHA-256.

A session lapses after CONSOLE_IDLE_MINUTES without a request and after
CONSOLE_SESSION_HOURS in all; signing out or an administrator revokes it at once.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

from .. import crypto
from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..timeutil import as_utc, utcnow
from .models import ConsoleAccount, ConsoleSession, User

ISSUER = "共治 Gongzhi"
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # Argon2id, the library's current recommended parameters
# Verified against when the username is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
SIGN_IN_REFUSED = "用户名、密码或动态验证码不正确"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_credentials(user: User, username: str, password: str, totp_secret: str | None = None,
                    new_totp: bool = False) -> tuple[ConsoleAccount, str]:
    """Give the user (or change) a console sign-in; returns the account and the TOTP secret
    (kept unless `new_totp` or given). Every session of theirs is revoked."""
    username = username.strip()
    if not username or len(username) > 64:
        raise Invalid("请填写用户名（不超过64个字符）", key="invalid_username")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"密码至少{MIN_PASSWORD}个字符", key="weak_password")
    taken = db.session.execute(sa.select(ConsoleAccount).where(ConsoleAccount.username == username)).scalar()
    if taken is not None and taken.user_id != user.id:
        raise Invalid("用户名已被使用", key="username_taken")
    account = db.session.execute(sa.select(ConsoleAccount).where(ConsoleAccount.user_id == user.id)).scalar()
    if account is None:
        account = ConsoleAccount(user_id=user.id)
        db.session.add(account)
        new_totp = new_totp or totp_secret is None
    old_secret = crypto.decrypt(account.totp_secret_enc) if account.totp_secret_enc else None
    if totp_secret is not None:
        secret = totp_secret
    elif new_totp or not old_secret:
        secret = pyotp.random_base32()
    else:
        secret = old_secret
    account.username, account.password_hash = username, _hasher.hash(password)
    if secret != old_secret:  # the same secret keeps its last used step: no code is good twice
        account.totp_secret_enc, account.totp_last_step = crypto.encrypt(secret) or "", None
    db.session.flush()
    revoke_all(user.id)
    return account, secret


def provisioning_uri(account: ConsoleAccount) -> str:
    return pyotp.TOTP(crypto.decrypt(account.totp_secret_enc) or "").provisioning_uri(
        name=account.username, issuer_name=ISSUER)


def _code_step(secret: str, code: str) -> int | None:
    """The time step the code belongs to (this one, or one either side), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        if secrets.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None


def authenticate(username: str, password: str, code: str) -> User:
    """The user whose password and current TOTP code these are; 401 otherwise, the same
    answer whichever was wrong. A code is accepted once."""
    account = db.session.execute(
        sa.select(ConsoleAccount).where(ConsoleAccount.username == username.strip())).scalar()
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        account = None
    if account is None:
        raise Unauthorized(SIGN_IN_REFUSED, key="sign_in_refused")
    step = _code_step(crypto.decrypt(account.totp_secret_enc) or "", code)
    if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
        raise Unauthorized(SIGN_IN_REFUSED, key="sign_in_refused")
    account.totp_last_step = step
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account.user


@dataclass(frozen=True)
class OpenSession:
    id: int
    user_id: int


def open_session(user: User, user_agent: str = "") -> str:
    """A new session; returns the cookie's value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(ConsoleSession(user_id=user.id, token_hash=hash_token(token), created_at=now, last_seen_at=now,
                                  user_agent=user_agent[:255]))
    user.last_login_at = now
    db.session.flush()
    return token


def _idle() -> timedelta:
    return timedelta(minutes=float(current_app.config["CONSOLE_IDLE_MINUTES"]))


def find_session(token: str | None) -> OpenSession | None:
    """The live session of this cookie value, its last-seen time moved on (at most once a
    minute); None when unknown, revoked, idle too long or too old."""
    if not token or len(token) > 256:
        return None
    row = db.session.execute(sa.select(ConsoleSession).where(ConsoleSession.token_hash == hash_token(token))).scalar()
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    lifetime = timedelta(hours=float(current_app.config["CONSOLE_SESSION_HOURS"]))
    if as_utc(row.last_seen_at) + _idle() <= now or as_utc(row.created_at) + lifetime <= now:
        return None
    if now - as_utc(row.last_seen_at) >= timedelta(minutes=1):
        row.last_seen_at = now
    return OpenSession(row.id, row.user_id)


def revoke(session_id: int, user_id: int | None = None) -> bool:
    """Revoke one session (of this user, when given); True when it was live."""
    query = sa.update(ConsoleSession).where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(ConsoleSession.user_id == user_id)
    done = db.session.execute(query.values(revoked_at=utcnow()), execution_options={"synchronize_session": False})
    return getattr(done, "rowcount", 0) == 1


def revoke_all(user_id: int) -> int:
    done = db.session.execute(
        sa.update(ConsoleSession).where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow()), execution_options={"synchronize_session": False})
    return int(getattr(done, "rowcount", 0))


def sessions_of(user_id: int, limit: int = 20) -> list[ConsoleSession]:
    return list(db.session.execute(
        sa.select(ConsoleSession).where(ConsoleSession.user_id == user_id)
        .order_by(ConsoleSession.id.desc()).limit(limit)).scalars())


def is_live(row: ConsoleSession) -> bool:
    now = utcnow()
    return row.revoked_at is None and as_utc(row.last_seen_at) + _idle() > now


def live_sessions(limit: int = 200) -> list[tuple[ConsoleSession, ConsoleAccount | None]]:
    """Every session not revoked and not idle too long, newest activity first, with the
    account it belongs to (for administrators)."""
    since = utcnow() - _idle()
    rows = db.session.execute(
        sa.select(ConsoleSession, ConsoleAccount)
        .outerjoin(ConsoleAccount, ConsoleAccount.user_id == ConsoleSession.user_id)
        .where(ConsoleSession.revoked_at.is_(None), ConsoleSession.last_seen_at > since)
        .order_by(ConsoleSession.last_seen_at.desc()).limit(limit)).all()
    return [(session, account) for session, account in rows]


def change_password(user: User, current: str, code: str, new: str) -> None:
    """The user's own new password, after their current one and a TOTP code; every session
    of theirs is revoked (this one too: they sign in again)."""
    account = db.session.execute(sa.select(ConsoleAccount).where(ConsoleAccount.user_id == user.id)).scalar()
    if account is None:
        raise Unauthorized(SIGN_IN_REFUSED, key="sign_in_refused")
    authenticate(account.username, current, code)
    set_credentials(user, account.username, new)
