"""The outbox worker: claim due rows, deliver each, record the outcome.

Claiming marks rows `sending` with a lease and a claim token in one short transaction
(on MySQL the candidate rows are read with FOR UPDATE SKIP LOCKED, so workers never
wait on each other's rows). Each row's outcome is committed on its own, guarded by the
claim token, so a worker killed mid-batch loses nothing: its leases expire and another
worker takes the rows again. A row is sent at least once; it is sent twice only if a
worker dies between WeChat's acceptance and the commit of that one row.
"""
from __future__ import annotations

import logging
import secrets
import signal
import time
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..extensions import db
from ..timeutil import utcnow
from . import delivery
from .models import FAILED, NO_QUOTA, PENDING, SENDING, SENT, Notification

log = logging.getLogger(__name__)


def _due(now: datetime):
    return sa.or_(
        sa.and_(Notification.state == PENDING, Notification.next_attempt_at <= now),
        sa.and_(Notification.state == SENDING, Notification.lease_until < now),
    )


def claim(limit: int, now: datetime) -> tuple[str, list[Notification]]:
    """Take up to `limit` due rows for this worker; returns the claim token and the rows."""
    token = secrets.token_hex(16)
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    query = sa.select(Notification.id).where(_due(now)).order_by(Notification.next_attempt_at).limit(limit)
    if db.engine.dialect.name == "mysql":
        query = query.with_for_update(skip_locked=True)
    ids = db.session.execute(query).scalars().all()
    if ids:
        db.session.execute(
            sa.update(Notification).where(Notification.id.in_(ids), _due(now))
            .values(state=SENDING, lease_until=lease, claim_token=token),
            execution_options={"synchronize_session": False})
    db.session.commit()
    if not ids:
        return token, []
    rows = db.session.execute(
        sa.select(Notification).where(Notification.claim_token == token, Notification.state == SENDING)
        .order_by(Notification.id)).scalars().all()
    return token, rows


def _finish(row: Notification, token: str, outcome: delivery.Outcome, now: datetime, *, digested: bool = False) -> None:
    cfg = current_app.config
    attempts = row.attempts + 1
    values: dict = {"attempts": attempts, "lease_until": None, "claim_token": None}
    if outcome.kind == "sent":
        values.update(state=SENT, sent_at=now, last_error=None, digested=digested)
    elif outcome.kind == "no_quota":
        values.update(state=NO_QUOTA, last_error="no subscription left")
    elif outcome.kind == "permanent" or attempts >= cfg["NOTIFY_MAX_ATTEMPTS"]:
        values.update(state=FAILED, last_error=outcome.reason or "gave up")
    else:
        wait = delivery.backoff(attempts, base=cfg["NOTIFY_RETRY_BASE_SECONDS"], cap=cfg["NOTIFY_RETRY_MAX_SECONDS"])
        values.update(state=PENDING, next_attempt_at=now + timedelta(seconds=wait), last_error=outcome.reason)
    # Only the holder of the claim may record the outcome (a lease taken over is not ours).
    db.session.execute(sa.update(Notification).where(Notification.id == row.id, Notification.claim_token == token)
                       .values(**values), execution_options={"synchronize_session": False})
    db.session.commit()


def _defer(row: Notification, token: str, until: datetime) -> None:
    db.session.execute(sa.update(Notification).where(Notification.id == row.id, Notification.claim_token == token)
                       .values(state=PENDING, next_attempt_at=until, lease_until=None, claim_token=None),
                       execution_options={"synchronize_session": False})
    db.session.commit()


def _deliver_wecom(rows: list[Notification], user: User, token: str, now: datetime) -> None:
    """Within WeCom's per-member budget one card each; past it, one digest for all of them."""
    cfg = current_app.config
    last_minute, last_hour = delivery.wecom_budget(user.id, now)
    if last_hour + 1 > cfg["WECOM_PER_HOUR"]:
        for row in rows:
            _defer(row, token, now + timedelta(minutes=10))
        return
    if last_minute + len(rows) <= cfg["WECOM_PER_MINUTE"]:
        for row in rows:
            _finish(row, token, delivery.send_wecom([row], user), utcnow())
        return
    if last_minute + 1 > cfg["WECOM_PER_MINUTE"]:
        for row in rows:
            _defer(row, token, now + timedelta(minutes=1))
        return
    outcome = delivery.send_wecom(rows, user)
    for row in rows:
        _finish(row, token, outcome, utcnow(), digested=len(rows) > 1)


def drain(limit: int | None = None, now: datetime | None = None) -> dict:
    """Deliver what is due now, once. Returns counts by outcome."""
    limit = limit or current_app.config["NOTIFY_BATCH"]
    now = now or utcnow()
    token, rows = claim(limit, now)
    counts: dict[str, int] = defaultdict(int)
    users = {u.id: u for u in db.session.execute(
        sa.select(User).where(User.id.in_({r.user_id for r in rows}))).scalars()} if rows else {}
    wecom: dict[int, list[Notification]] = defaultdict(list)
    for row in rows:
        user = users.get(row.user_id)
        if user is None:
            _finish(row, token, delivery.Outcome("permanent", "recipient gone"), now)
            counts["permanent"] += 1
        elif row.channel == "wecom":
            wecom[user.id].append(row)
        else:
            outcome = delivery.send_wechat(row, user)
            _finish(row, token, outcome, now)
            counts[outcome.kind] += 1
    for user_id, group in wecom.items():
        _deliver_wecom(group, users[user_id], token, now)
        counts["wecom"] += len(group)
    counts["claimed"] = len(rows)
    return dict(counts)


class _Stop:
    def __init__(self):
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._set)

    def _set(self, *_):
        self.requested = True


def run(once: bool = False, idle_sleep: float = 1.0) -> None:
    """Drain the outbox until stopped (SIGTERM lets the current batch finish). With
    once=True: drain what is due, then return. The ticket timers run apart (`flask timers`)."""
    stop = _Stop()
    while not stop.requested:
        try:
            counts = drain()
        except sa.exc.OperationalError:
            db.session.rollback()
            log.warning("database unavailable; retrying")
            time.sleep(idle_sleep)
            continue
        if counts.get("claimed"):
            log.info("delivered %s", counts)
            continue
        if once:
            return
        time.sleep(idle_sleep)
