"""Opaque bearer tokens (stored as SHA-256) and the current user of a request."""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.orm import joinedload, load_only

from ..errors import Unauthorized
from ..extensions import db
from ..timeutil import utcnow
from ..units.models import Unit
from .models import AuthToken, StaffPost, User

# What a request reads of its user, token and posts: the token query answers only these
# columns (PyMySQL parses every column's description in Python, on every request). Any
# other attribute still loads when it is read, with a query of its own.
_LOAD = (
    load_only(AuthToken.id, AuthToken.user_id),
    load_only(User.id, User.openid, User.nickname, User.phone_enc, User.wecom_userid, User.is_dev, User.created_at),
    joinedload(User.posts).load_only(StaffPost.id, StaffPost.user_id, StaffPost.unit_id, StaffPost.role)
    .joinedload(StaffPost.unit).load_only(Unit.id, Unit.code, Unit.name, Unit.path, Unit.depth),
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
    db.session.add(AuthToken(user_id=user.id, token_hash=_hash(token), expires_at=expires_at))
    return token, expires_at


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _load() -> tuple[User | None, AuthToken | None]:
    """The request's user and token, looked up once per request: one query, the user's
    staff posts (and their units) joined in, since every permission check reads them.

    A bearer token that is sent but no longer valid (expired, logged out, of a deleted
    account, or never issued) is refused with 401 everywhere, public routes included: the
    client then logs in again rather than being treated as a stranger (RFC 6750, 3.1)."""
    cached = getattr(request, "_gongzhi_auth", None)
    if cached is None:
        token = _bearer()
        found = (None, None)
        if token:
            row = db.session.execute(
                sa.select(AuthToken, User)
                .join(User, User.id == AuthToken.user_id)
                .where(AuthToken.token_hash == _hash(token), AuthToken.revoked_at.is_(None),
                       AuthToken.expires_at > utcnow())
                .options(*_LOAD)
            ).unique().first() if len(token) <= 256 else None
            found = (row.User, row.AuthToken) if row is not None else _REFUSED
        request._gongzhi_auth = cached = found
    if cached is _REFUSED:
        raise Unauthorized("登录已过期，请重新登录", key="unauthorized")
    return cached


_REFUSED = object()  # the request's token was sent and refused


def current_user() -> User | None:
    return _load()[0]


def current_token() -> AuthToken | None:
    return _load()[1]


def require_user() -> User:
    user = current_user()
    if user is None:
        raise Unauthorized("登录已过期，请重新登录", key="unauthorized")
    return user


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        require_user()
        return view(*args, **kwargs)

    return wrapper


def revoke(token: AuthToken) -> None:
    token.revoked_at = utcnow()


def revoke_all(user: User) -> int:
    return db.session.execute(
        sa.update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
