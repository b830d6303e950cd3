"""Readiness: may this process take traffic?

The database answers, its schema is at the migrations' heads, and Redis answers when
REDIS_URL is set. Liveness (`/healthz`) asks less: the process answers and the database
responds.

Schema behind the code (a box started with new code before `flask db upgrade heads` ran):
not ready. Schema ahead of the code (revisions this code has never heard of: a newer
release migrated the database and this box is still to be upgraded): ready, reported as
"ahead". A release migrates first, with changes the previous code tolerates, then rolls
the code box by box (deploy/README.md); were "ahead" not ready, the migration would take
every old box out of the load balancer before a new one is up.
"""
from __future__ import annotations

import logging

import redis
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app

from ..extensions import db
from ..replica import replica

log = logging.getLogger(__name__)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def expected_heads() -> set[str]:
    """The heads of the migration scripts shipped with this code (read once per process)."""
    ext = current_app.extensions
    if "gongzhi.ops.heads" not in ext:
        ext["gongzhi.ops.heads"] = frozenset(_scripts().get_heads())
    return set(ext["gongzhi.ops.heads"])


def known_revisions() -> frozenset[str]:
    ext = current_app.extensions
    if "gongzhi.ops.revisions" not in ext:
        ext["gongzhi.ops.revisions"] = frozenset(rev.revision for rev in _scripts().walk_revisions())
    return ext["gongzhi.ops.revisions"]


def current_heads() -> set[str]:
    """The revisions in the database's alembic_version table (none when there is no table)."""
    try:
        with db.session.begin_nested():
            rows = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.SQLAlchemyError:
        return set()
    return set(rows)


def _redis_client(url: str):
    clients = current_app.extensions.setdefault("gongzhi.ops.redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return clients[url]


def readiness() -> tuple[bool, dict]:
    """(ready, checks): each check "ok", or what is wrong with it."""
    checks: dict = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
        current, expected = current_heads(), expected_heads()
        if current == expected:
            checks["migrations"] = "ok"
        elif current - known_revisions():
            checks["migrations"] = "ahead"
        else:
            checks["migrations"] = {"status": "behind", "current": sorted(current), "expected": sorted(expected)}
    except sa.exc.SQLAlchemyError as err:
        db.session.rollback()
        log.warning("readiness: database unavailable (%s)", type(err).__name__)
        checks.setdefault("database", "unreachable")
        checks.setdefault("migrations", "unknown")
    url = current_app.config.get("REDIS_URL") or ""
    if url:
        try:
            _redis_client(url).ping()
            checks["redis"] = "ok"
        except redis.RedisError as err:
            log.warning("readiness: redis unavailable (%s)", type(err).__name__)
            checks["redis"] = "unreachable"
    else:
        checks["redis"] = "not_configured"
    ready = all(value in ("ok", "ahead", "not_configured") for value in checks.values())
    found = replica()
    if found is not None:  # said, never a reason to refuse traffic: its reads go to the primary meanwhile
        checks["replica"] = "ok" if found.usable() else {"status": "not_used", "reason": found.reason}
    return ready, checks
