"""Open311 API keys: one integration user each; only the key's SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask import has_request_context, request

from ..auth.models import User
from ..extensions import db
from ..timeutil import utcnow
from .errors import Open311Error
from .models import ApiKey

MAX_KEY_LENGTH = 128


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(name: str) -> tuple[ApiKey, str]:
    """A new key and its integration user (openid "open311:<key id>"). Returns the key
    once; only its hash is kept."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise ValueError("the key name must be 1 to 64 characters")
    if db.session.execute(sa.select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise ValueError(f"a key named {name!r} exists already")
    raw = "o311_" + secrets.token_urlsafe(32)
    user = User(openid="open311:new:" + secrets.token_hex(8), nickname=name)
    db.session.add(user)
    db.session.flush()
    key = ApiKey(name=name, key_hash=key_hash(raw), user_id=user.id, created_at=utcnow())
    db.session.add(key)
    db.session.flush()
    user.openid = f"open311:{key.id}"
    db.session.flush()
    return key, raw


def list_keys() -> list[ApiKey]:
    return list(db.session.execute(sa.select(ApiKey).order_by(ApiKey.id)).scalars())


def revoke_key(name: str) -> ApiKey:
    key = db.session.execute(sa.select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none()
    if key is None:
        raise ValueError(f"no key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.flush()
    return key


def find(raw: str | None) -> ApiKey | None:
    """The active key named by `raw`, else None; looked up once per request."""
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    found = request.environ.setdefault("gongzhi.open311.keys", {}) if has_request_context() else {}
    if raw not in found:
        found[raw] = db.session.execute(
            sa.select(ApiKey).where(ApiKey.key_hash == key_hash(raw), ApiKey.revoked_at.is_(None))
        ).scalar_one_or_none()
    return found[raw]


def authenticate(raw: str | None, required: bool) -> ApiKey | None:
    """The active key, None when none was sent and none is needed; 403 otherwise."""
    if not raw:
        if required:
            raise Open311Error(403, "api_key is required to create a service request")
        return None
    key = find(raw)
    if key is None:
        raise Open311Error(403, "Invalid api_key received")
    return key
