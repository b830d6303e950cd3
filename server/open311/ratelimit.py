"""The per-key rate limit: OPEN311_RATE_LIMIT requests per API key, counted by flask-limiter.

The setting is flask-limiter's notation ("60/hour", "100/minute;2000/day"); a bare number
means per minute and 0 turns the limit off. Every view that takes an api_key shares one
count per key (reads too, when they carry one). Counters live where the app's other limits
live (server/ops/ratelimit.py): Redis when REDIS_URL is set, else process memory. A request
without a valid key is not counted here: the view answers it 403, or reads it unlimited.
"""
from __future__ import annotations

import logging

from flask import request
from limits import RateLimitItem, parse_many
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, limiter
from . import keys
from .settings import setting

log = logging.getLogger(__name__)

SCOPE = "open311-key"
DEFAULT = "60/minute"


def _items(value: str) -> list[RateLimitItem]:
    items = parse_many(value)
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(value)
    return items


def limit_value() -> str:
    """The setting in flask-limiter's notation; "" when there is no limit."""
    raw = setting("OPEN311_RATE_LIMIT", "60")
    if raw.isdigit():
        return f"{int(raw)}/minute" if int(raw) else ""
    try:
        _items(raw)
    except ValueError:
        log.warning("OPEN311_RATE_LIMIT=%r is not a rate limit such as 60/hour; using %s", raw, DEFAULT)
        return DEFAULT
    return raw


def describe() -> str:
    """The limit as a sentence for discovery, e.g. "60 per 1 hour"; "" when there is none."""
    value = limit_value()
    return "; ".join(str(item) for item in _items(value)) if value else ""


def _bucket() -> str:
    """The key's id and the start of its hash: a new key never inherits an old key's count."""
    key = keys.find(request.values.get("api_key"))
    return f"{key.id}:{key.key_hash[:8]}" if key is not None else ""


def _without_key() -> bool:
    try:
        return keys.find(request.values.get("api_key")) is None
    except SQLAlchemyError:
        db.session.rollback()  # the view meets the database again and answers 503
        return True


def exceeded(limit: RateLimitItem, retry: str) -> str:
    return f"Rate limit exceeded for this api_key ({limit}); retry after {retry} seconds"


per_key = limiter.shared_limit(limit_value, scope=SCOPE, key_func=_bucket, exempt_when=_without_key)
