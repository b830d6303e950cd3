"""Reads that tolerate a few seconds of lag, from a read replica (DATABASE_REPLICA_URL).

    with replica_read():          # or @replica_reads on a read-only view
        card = queries.unit_card(...)

Inside the block, the SELECTs of `db.session` go to the replica while it is usable; every
write (a flush, an INSERT, UPDATE or DELETE, raw SQL text) still goes to the primary, and so
do the reads of who is signed in and what posts they hold: the sign-in is read on the
session's own connection (`db.session.connection()` names no statement, so it is the
primary's), and ORM loads of users, tokens and posts are kept on the primary too (a revoked
post must be refused at once, not after the replica's lag). A replica is usable while its
replication runs (Slave_IO_Running and Slave_SQL_Running both Yes) and Seconds_Behind_Master
is at most REPLICA_MAX_LAG_SECONDS; each process asks it every REPLICA_CHECK_SECONDS. A
replica stopped, lagging, unreachable or not a replica at all sends the reads back to the
primary until a later check finds it well, and a read that fails on the replica is run
again on the primary (`replica_reads`). Without DATABASE_REPLICA_URL nothing changes.

A block sees the replica's data, which may miss the request's own writes: use it for
lag-tolerant reads only (report cards, bulletins and their export, public lists).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

_ROUTED: ContextVar[bool] = ContextVar("gongzhi_replica_read", default=False)
_USED: ContextVar[bool] = ContextVar("gongzhi_replica_used", default=False)
_EXT = "gongzhi.replica"
# ORM loads of these read from the primary even inside replica_read(): who is signed in, with which posts.
PRIMARY_ONLY = {"users", "auth_tokens", "staff_posts"}
F = TypeVar("F", bound=Callable[..., Any])


class Replica:
    def __init__(self, url: str, *, max_lag: float, check_every: float, connect_timeout: float):
        parsed = make_url(url)
        options: dict = {"pool_pre_ping": True, "pool_recycle": 3600}
        if parsed.get_backend_name() == "mysql":
            if "charset" not in parsed.query:
                parsed = parsed.update_query_dict({"charset": "utf8mb4"})
            options.update(isolation_level="READ COMMITTED", connect_args={"connect_timeout": connect_timeout})
        self.engine = sa.create_engine(parsed, **options)
        self.is_mysql = parsed.get_backend_name() == "mysql"
        self.max_lag, self.check_every = max_lag, check_every
        self.lock = threading.Lock()
        self.usable_now = False
        self.checked_at = float("-inf")
        self.reason = "not checked yet"

    def usable(self) -> bool:
        """Whether reads may go to the replica now (asked at most every `check_every` seconds)."""
        if time.monotonic() - self.checked_at < self.check_every:
            return self.usable_now
        if not self.lock.acquire(blocking=False):
            return self.usable_now  # another thread is asking; until it knows, the last answer
        try:
            ok, reason = self._check()
            if ok != self.usable_now:
                log.warning("read replica %s (%s)", "in use" if ok else "not used: reads go to the primary", reason)
            self.usable_now, self.reason, self.checked_at = ok, reason, time.monotonic()
        finally:
            self.lock.release()
        return self.usable_now

    def set_down(self, reason: str) -> None:
        if self.usable_now:
            log.warning("read replica not used: reads go to the primary (%s)", reason)
        self.usable_now, self.reason, self.checked_at = False, reason, time.monotonic()

    def _check(self) -> tuple[bool, str]:
        try:
            with self.engine.connect() as conn:
                if not self.is_mysql:
                    conn.execute(sa.text("SELECT 1"))
                    return True, "reachable"
                row = conn.exec_driver_sql("SHOW SLAVE STATUS").mappings().first()
        except sa.exc.SQLAlchemyError as err:
            return False, f"unreachable: {type(err.orig if hasattr(err, 'orig') else err).__name__}"
        if row is None:
            return False, "not a replica (SHOW SLAVE STATUS is empty)"
        io, sql, lag = row.get("Slave_IO_Running"), row.get("Slave_SQL_Running"), row.get("Seconds_Behind_Master")
        if io != "Yes" or sql != "Yes":
            return False, f"replication stopped (io {io}, sql {sql})"
        if lag is None or float(lag) > self.max_lag:
            return False, f"{lag} s behind the primary, more than {self.max_lag:g}"
        return True, f"{lag} s behind the primary"


def replica() -> Replica | None:
    """This app's replica, or None without DATABASE_REPLICA_URL."""
    ext = current_app.extensions
    if _EXT not in ext:
        cfg = current_app.config
        url = cfg.get("DATABASE_REPLICA_URL") or ""
        ext[_EXT] = Replica(url, max_lag=float(cfg.get("REPLICA_MAX_LAG_SECONDS", 5)),
                            check_every=float(cfg.get("REPLICA_CHECK_SECONDS", 2)),
                            connect_timeout=float(cfg.get("REPLICA_CONNECT_TIMEOUT", 2))) if url else None
    return ext[_EXT]


@contextmanager
def replica_read() -> Iterator[bool]:
    """Route this block's lag-tolerant reads to the replica when it is usable; yields whether."""
    found = replica() if has_app_context() else None
    if found is None or not found.usable():
        yield False
        return
    routed = _ROUTED.set(True)
    try:
        yield True
    finally:
        _ROUTED.reset(routed)


def replica_reads(fn: F) -> F:
    """A read-only function run inside replica_read(); a database error on the way is met by
    running it again on the primary (the replica set aside until its next check)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with replica_read() as routed:
            if not routed:
                return fn(*args, **kwargs)
            used = _USED.set(False)
            try:
                return fn(*args, **kwargs)
            except sa.exc.DBAPIError as err:
                if not _USED.get():
                    raise
                from .extensions import db

                if db.session.new or db.session.dirty or db.session.deleted:
                    raise
                found = replica()
                if found is not None:
                    found.set_down(f"a read failed: {type(err.orig).__name__}")
                db.session.rollback()
            finally:
                _USED.reset(used)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _reads_replicable(clause) -> bool:
    return clause is not None and bool(getattr(clause, "is_select", False))


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session; inside replica_read(), plain reads go to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and _ROUTED.get() and not self._flushing:
            if mapper is not None:
                table = getattr(sa.inspect(mapper), "local_table", None)
                if getattr(table, "name", None) in PRIMARY_ONLY:
                    return super().get_bind(mapper, clause, bind, **kwargs)
            if _reads_replicable(clause):
                found = replica()
                if found is not None and found.usable_now:
                    _USED.set(True)
                    return found.engine
        return super().get_bind(mapper, clause, bind, **kwargs)
