"""The signed-in user, kept per process between requests and checked with Redis on each.

Every request with a token reads its user: the token, the user, their posts. With REDIS_URL
set, each process keeps what it read, by token, and a request asks Redis (one MGET) whether
that user, or sign-ins as a whole, changed since. Every committed change to a user, their
posts or their tokens (a logout, a revoked post, a bound phone, a deleted account) writes a
new random value under that user's key, and a bulk statement that does not say whose rows
it changed writes one under the key for everyone. A request reads these values before it
reads the database and keeps them with what it read, so a change committed since shows as a
different value on the next request, in every process: a change takes effect from the next
request on, as it does without the cache. The values are random, not counters, so after
Redis restarts and loses them no old value comes back to match.

A token's first request in a process only learns whose token it is (the key to ask about);
the next one reads the values, then the database, and keeps both. An entry expires with its
token and after VIEWER_CACHE_SECONDS at the latest, which bounds how long a change can go
unseen when Redis loses its notice (Redis down while the change commits). While Redis
cannot be reached, requests read the database as they do without it, and this process
forgets what it kept.

A process that keeps nothing itself (VIEWER_CACHE_SECONDS=0: an admin command, a box set so)
still announces what it changes whenever REDIS_URL is set: other boxes and workers may keep
the users it changes, and a post it revokes must be refused by them at once.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import redis
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from .. import directory
from ..timeutil import utcnow
from .models import AuthToken, StaffPost, User

log = logging.getLogger(__name__)

PREFIX = "gongzhi:viewer:"
EVERYONE = "all"
_KEY = "gongzhi.viewer_cache"
_CHANGED = "gongzhi.viewers_changed"  # session.info: user ids (or EVERYONE) to announce at commit
OPTION = "gongzhi.viewers_changed"  # execution option of a bulk statement: the user ids it changes
_TABLES = frozenset({User.__tablename__, StaffPost.__tablename__, AuthToken.__tablename__})
MAX_ENTRIES = 20_000  # past it a process starts over
RETRY_AFTER_SECONDS = 5.0


@dataclass(slots=True)
class _Entry:
    user_id: int
    born: float
    stamp: tuple | None = None  # the Redis values read before `viewer` was read
    viewer: object | None = None


class ViewerCache:
    def __init__(self, url: str, seconds: float):
        self.client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self.seconds = seconds
        self.entries: dict[str, _Entry] = {}
        self.down_until = 0.0

    def viewer(self, token_hash: str, load: Callable):
        """The viewer of this token: kept, or `load(token_hash)` (a Viewer, or None when refused)."""
        if self.seconds <= 0:  # this process keeps nothing; it only announces its changes
            return load(token_hash)
        now = time.monotonic()
        entry = self.entries.get(token_hash)
        if entry is None:
            found = load(token_hash)
            if found is not None:
                self._keep(token_hash, _Entry(found.id, now))  # whose token it is: never changes
            return found
        stamp = self._stamp(entry.user_id, now)
        if stamp is None:
            return load(token_hash)
        kept = entry.viewer
        if (kept is not None and entry.stamp == stamp and now - entry.born <= self.seconds
                and kept.token_expires_at > utcnow() and _units_current(kept)):
            return kept
        found = load(token_hash)
        if found is None:
            self.entries.pop(token_hash, None)
        elif found.id == entry.user_id:
            self._keep(token_hash, _Entry(found.id, now, stamp, found))
        return found

    def _keep(self, token_hash: str, entry: _Entry) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            self.entries = {}
        self.entries[token_hash] = entry

    def _stamp(self, user_id: int, now: float) -> tuple | None:
        if now < self.down_until:
            return None
        try:
            return tuple(self.client.mget(PREFIX + str(user_id), PREFIX + EVERYONE))
        except redis.RedisError as err:
            self._lost(err)
            return None

    def announce(self, changed: set) -> None:
        """A new value under the key of each changed user (or of everyone)."""
        expire = int(self.seconds * 2) + 60  # longer than an entry lives: no key vanishes under one
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for who in changed:
                    pipe.set(PREFIX + str(who), uuid.uuid4().hex, ex=expire)
                pipe.execute()
        except redis.RedisError as err:
            self._lost(err)

    def _lost(self, err: Exception) -> None:
        log.warning("viewer cache: redis unavailable (%s), reading sign-ins from the database", type(err).__name__)
        self.entries = {}
        self.down_until = time.monotonic() + RETRY_AFTER_SECONDS


def cache() -> ViewerCache | None:
    """This app's cache, or None without REDIS_URL (with VIEWER_CACHE_SECONDS 0 it keeps
    nothing and only announces changes)."""
    found = current_app.extensions.get(_KEY, False)
    if found is False:
        config = current_app.config
        seconds = float(config.get("VIEWER_CACHE_SECONDS", 0))
        found = ViewerCache(config["REDIS_URL"], max(seconds, 0.0)) if config.get("REDIS_URL") else None
        current_app.extensions[_KEY] = found
    return found


def _units_current(viewer) -> bool:
    """The posts' units are the ones the directory holds now (it reads them again every few
    seconds): a unit moved in the tree changes the viewer's scope as soon as it would without
    the cache."""
    if not viewer.posts:
        return True
    units = directory.units(post.unit_id for post in viewer.posts)
    return all(units.get(post.unit_id) is post.unit for post in viewer.posts)


def _mark(session: Session, who) -> None:
    session.info.setdefault(_CHANGED, set()).add(who)


def _owner(obj) -> int | str:
    """The user a post or a token belongs to (everyone, if it is not known yet)."""
    user_id = obj.user_id if obj.user_id is not None else getattr(obj.user, "id", None)
    return user_id if user_id is not None else EVERYONE


@event.listens_for(Session, "before_flush")
def _flushing(session: Session, _context, _instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, User):
            _mark(session, obj.id)
        elif isinstance(obj, (StaffPost, AuthToken)):
            _mark(session, _owner(obj))
    for obj in session.new:  # a new user or token was never kept; a new post changes a kept user
        if isinstance(obj, StaffPost):
            _mark(session, _owner(obj))


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if getattr(state.statement.table, "name", None) not in _TABLES:
        return
    users = state.execution_options.get(OPTION)
    for who in (users if users is not None else (EVERYONE,)):
        _mark(state.session, who)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed and has_app_context():
        found = cache()
        if found is not None:
            found.announce(changed)
