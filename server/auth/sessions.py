"""Opaque bearer tokens (stored as SHA-256) and the current user of a request."""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request

from .. import directory, jsonio
from ..errors import Unauthorized
from ..extensions import db
from ..sqljson import json_object, utc
from ..timeutil import utcnow
from . import viewer_cache
from .actor import Actor, Post
from .models import AuthToken, Role, StaffPost, User

_tokens, _users, _posts = AuthToken.__table__, User.__table__, StaffPost.__table__
# The one query every signed-in request sends: the token's user and their posts (a row per
# post), only the columns requests read. Built once (SQLAlchemy then reuses its cache key
# and compiled form) and run on the session's connection as a Core statement: the units of
# the posts come from the directory, not a join. No ORDER BY: sorting a user's few posts made
# MariaDB build a temporary table on every request (half the query's cost); Python sorts them.
_VIEWER = (
    sa.select(json_object((
        _tokens.c.id.label("token_id"), _users.c.id, _users.c.openid, _users.c.nickname, _users.c.phone_enc,
        _users.c.wecom_userid, _users.c.is_dev, _users.c.created_at, _tokens.c.expires_at.label("token_expires_at"),
        _posts.c.id.label("post_id"), _posts.c.unit_id, _posts.c.role)))
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id).outerjoin(_posts, _posts.c.user_id == _users.c.id))
    .where(_tokens.c.token_hash == sa.bindparam("token_hash"), _tokens.c.revoked_at.is_(None),
           _tokens.c.expires_at > sa.bindparam("now", type_=_tokens.c.expires_at.type))
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


def _viewer_of(rows: list[dict]) -> Actor:
    first = rows[0]
    units = directory.units(row["unit_id"] for row in rows if row["post_id"] is not None)
    posts = tuple(sorted((Post(row["post_id"], row["unit_id"], Role(row["role"]), units[row["unit_id"]])
                          for row in rows if row["post_id"] is not None and row["unit_id"] in units),
                         key=lambda post: post.id))
    return Actor(first["id"], first["openid"], first["nickname"] or "", first["phone_enc"], first["wecom_userid"],
                  bool(first["is_dev"]), utc(first["created_at"]), first["token_id"], utc(first["token_expires_at"]), posts)


def _load(token_hash: str) -> Actor | None:
    rows = [jsonio.loads(text) for text, in db.session.connection().execute(
        _VIEWER, {"token_hash": token_hash, "now": utcnow()})]
    return _viewer_of(rows) if rows else None


def viewer() -> Actor | None:
    """The request's signed-in user, looked up once per request (one query, or none when
    this process kept them and Redis says nothing changed: viewer_cache.py).

    A bearer token that is sent but no longer valid (expired, logged out, of a deleted
    account, or never issued) is refused with 401 everywhere, public routes included: the
    client then logs in again rather than being treated as a stranger (RFC 6750, 3.1)."""
    cached = request.environ.get(_ENVIRON_VIEWER, _UNSET)
    if cached is _UNSET:
        token = _bearer()
        cached = None
        if token:
            found = None
            if len(token) <= 256:
                token_hash = _hash(token)
                kept = viewer_cache.cache()
                found = kept.viewer(token_hash, _load) if kept else _load(token_hash)
            cached = found if found is not None else _REFUSED
        request.environ[_ENVIRON_VIEWER] = cached
    if cached is _REFUSED:
        raise Unauthorized("登录已过期，请重新登录", key="unauthorized")
    return cached


_ENVIRON_VIEWER = "gongzhi.viewer"
_UNSET = object()
_REFUSED = object()  # the request's token was sent and refused


def current_user() -> User | None:
    """The signed-in user's row, for the views that change or show the account itself."""
    found = viewer()
    return db.session.get(User, found.id) if found is not None else None


def current_token() -> AuthToken | None:
    found = viewer()
    return db.session.get(AuthToken, found.token_id) if found is not None else None


def require_user() -> Actor:
    user = viewer()
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


def user_or_ip() -> str:
    """A rate-limit key: a signed-in user's own bucket, whichever address they come from;
    else the address."""
    try:
        user = viewer()
    except sa.exc.SQLAlchemyError:
        # Rolled back: a connection lost mid-query leaves the session unusable, and the
        # view's own query would fail as a 500 (PendingRollbackError) instead of meeting
        # the database error again (503) or succeeding on a database that is back.
        db.session.rollback()
        user = None
    except Unauthorized:
        user = None  # a refused token: counted by address, and the view answers 401
    return f"user:{user.id}" if user is not None else f"ip:{request.remote_addr or 'unknown'}"
