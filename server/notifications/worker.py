"""The outbox worker: claim a batch of due rows, send them, record the batch's outcomes.

One batch costs two commits, whatever its size:

1. The claim: due rows are marked `sending` with a lease and a claim token, and the
   one-time subscriptions they need are taken, in one short transaction (on MySQL the
   candidate rows are read with FOR UPDATE SKIP LOCKED, so workers never wait on each
   other's rows).
2. The sends, one after another over the WeChat client's kept-alive HTTP connection. Each
   acceptance is noted at once as a receipt of the claim (`receipts.py`: Redis; without it,
   the row's state is committed on its own).
3. The outcomes of the whole batch in one transaction, guarded by the claim token.

A worker killed mid-batch loses nothing: its leases expire and another worker takes the
rows again; the rows the killed worker's receipts show as accepted are recorded as sent
without being sent again. A row is sent twice only if the worker dies between WeChat's
acceptance and that row's receipt (the one send in flight). A batch that outlives half its
lease (WeChat slow) stops sending and hands its unsent rows back, so a lease is never
taken over while its holder still sends.
"""
from __future__ import annotations

import logging
import secrets
import signal
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..extensions import db
from ..timeutil import utcnow
from . import delivery
from .models import FAILED, NO_QUOTA, PENDING, SENDING, SENT, Notification
from .outbox import template_ids
from .receipts import receipts

log = logging.getLogger(__name__)
_N = Notification.__table__


def _due(now: datetime):
    return sa.or_(
        sa.and_(Notification.state == PENDING, Notification.next_attempt_at <= now),
        sa.and_(Notification.state == SENDING, Notification.lease_until < now),
    )


@dataclass(frozen=True)
class Job:
    """A claimed row, as read at the claim (no ORM object: nothing expires at a commit)."""
    id: int
    user_id: int
    template: str
    channel: str
    title: str
    body: str
    ticket_id: int | None
    data: dict
    attempts: int


@dataclass
class Batch:
    token: str
    now: datetime
    jobs: list[Job]
    # decided at the claim: accepted under an earlier claim that died; no subscription left
    done_before: set[int] = field(default_factory=set)
    no_quota: set[int] = field(default_factory=set)
    quota_taken: set[int] = field(default_factory=set)  # a one-time subscription used for it at the claim
    outcomes: dict[int, delivery.Outcome] = field(default_factory=dict)
    digested: set[int] = field(default_factory=set)
    deferred: dict[int, datetime] = field(default_factory=dict)
    committed: set[int] = field(default_factory=set)   # sent and recorded already (no receipt store)


def claim(limit: int, now: datetime) -> Batch:
    """Take up to `limit` due rows for this worker and the subscriptions they need, in one commit."""
    token = secrets.token_hex(16)
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    query = (sa.select(Notification.id, Notification.state, Notification.claim_token).where(_due(now))
             .order_by(Notification.next_attempt_at).limit(limit))
    if db.engine.dialect.name == "mysql":
        query = query.with_for_update(skip_locked=True)
    candidates = db.session.execute(query).all()
    if not candidates:
        db.session.commit()
        return Batch(token, now, [])
    earlier = {c.id: c.claim_token for c in candidates if c.state == SENDING and c.claim_token}
    db.session.execute(
        sa.update(_N).where(_N.c.id.in_([c.id for c in candidates]), _due(now))
        .values(state=SENDING, lease_until=lease, claim_token=token))
    jobs = [Job(r.id, r.user_id, r.template, r.channel, r.title, r.body, r.ticket_id, r.data or {}, r.attempts)
            for r in db.session.execute(
                sa.select(_N.c.id, _N.c.user_id, _N.c.template, _N.c.channel, _N.c.title, _N.c.body,
                          _N.c.ticket_id, _N.c.data, _N.c.attempts)
                .where(_N.c.claim_token == token).order_by(_N.c.id))]
    batch = Batch(token, now, jobs)
    batch.done_before = _accepted_before({j.id: earlier[j.id] for j in jobs if j.id in earlier})
    configured = template_ids()
    wanted: dict[tuple[int, str], list[int]] = defaultdict(list)
    for job in jobs:
        if (job.channel == "wechat" and job.id not in batch.done_before and job.template in configured
                and delivery.is_one_time(job.template)):
            wanted[(job.user_id, job.template)].append(job.id)
    granted = delivery.take_quotas({pair: len(ids) for pair, ids in wanted.items()})
    for pair, ids in wanted.items():
        batch.quota_taken.update(ids[:granted.get(pair, 0)])
        batch.no_quota.update(ids[granted.get(pair, 0):])
    db.session.commit()
    return batch


def _accepted_before(earlier: dict[int, str]) -> set[int]:
    """Rows taken over from a claim that died, which WeChat had already accepted."""
    store = receipts()
    if not earlier or store is None:
        return set()
    found = store.of(set(earlier.values()))
    if found is None:
        return set()
    return {row_id for row_id, token in earlier.items() if row_id in found.get(token, set())}


def _record_now(batch: Batch, ids: list[int], *, digested: bool) -> None:
    """No receipt store: commit these accepted rows' state before sending anything else."""
    db.session.execute(
        sa.update(_N).where(_N.c.id.in_(ids), _N.c.claim_token == batch.token)
        .values(state=SENT, sent_at=utcnow(), last_error=None, digested=digested, attempts=_N.c.attempts + 1,
                lease_until=None, claim_token=None))
    db.session.commit()
    batch.committed.update(ids)


def _accepted(batch: Batch, ids: list[int], *, digested: bool = False) -> None:
    store = receipts()
    if store is None or not store.accepted(batch.token, ids):
        _record_now(batch, ids, digested=digested)


def _deliver_wecom(batch: Batch, jobs: list[Job], user: User) -> None:
    """Within WeCom's per-member budget one card each; past it, one digest for all of them."""
    cfg = current_app.config
    now = batch.now
    last_minute, last_hour = delivery.wecom_budget(user.id, now)
    if last_hour + 1 > cfg["WECOM_PER_HOUR"]:
        batch.deferred.update({j.id: now + timedelta(minutes=10) for j in jobs})
        return
    if last_minute + len(jobs) <= cfg["WECOM_PER_MINUTE"]:
        for job in jobs:
            _record(batch, [job], delivery.send_wecom([job], user))  # type: ignore[list-item]
        return
    if last_minute + 1 > cfg["WECOM_PER_MINUTE"]:
        batch.deferred.update({j.id: now + timedelta(minutes=1) for j in jobs})
        return
    _record(batch, jobs, delivery.send_wecom(jobs, user), digested=len(jobs) > 1)  # type: ignore[arg-type]


def _record(batch: Batch, jobs: list[Job], outcome: delivery.Outcome, *, digested: bool = False) -> None:
    ids = [j.id for j in jobs]
    if outcome.kind == "sent":
        _accepted(batch, ids, digested=digested)
        if digested:
            batch.digested.update(ids)
    for i in ids:
        batch.outcomes[i] = outcome


def _send(batch: Batch, users: dict[int, User]) -> None:
    deadline = time.monotonic() + current_app.config["NOTIFY_LEASE_SECONDS"] / 2
    wecom: dict[int, list[Job]] = defaultdict(list)
    for job in batch.jobs:
        user = users.get(job.user_id)
        if job.id in batch.done_before or job.id in batch.no_quota:
            continue
        if user is None:
            batch.outcomes[job.id] = delivery.Outcome("permanent", "recipient gone")
        elif job.channel == "wecom":
            wecom[user.id].append(job)
        elif time.monotonic() < deadline:
            _record(batch, [job], delivery.send_wechat(job, user))  # type: ignore[arg-type]
    for user_id, group in wecom.items():
        if time.monotonic() < deadline:
            _deliver_wecom(batch, group, users[user_id])


def _write_outcomes(batch: Batch) -> dict[str, int]:
    """Every outcome of the batch in one transaction; rows not reached go back to the queue."""
    cfg = current_app.config
    now = utcnow()
    mine = _N.c.claim_token == batch.token
    release = {"lease_until": None, "claim_token": None}
    counts: dict[str, int] = defaultdict(int)
    sent: dict[bool, list[int]] = {False: [], True: []}
    failed: list[dict] = []
    retry: list[dict] = []
    back: dict[tuple[int, str], int] = defaultdict(int)
    gone: set[tuple[int, str]] = set()
    # Rows another worker took over (this batch outlived its lease) are its to record, their
    # subscriptions included: nothing is given back for them here.
    held = _N.c.id.in_([j.id for j in batch.jobs])
    query = sa.select(_N.c.id).where(held, mine)
    if db.engine.dialect.name == "mysql":
        query = query.with_for_update()
    still_mine = set(db.session.execute(query).scalars())
    for job in batch.jobs:
        if job.id in batch.committed:
            counts["sent"] += 1
            continue
        if job.id in batch.done_before:
            sent[False].append(job.id)
            counts["sent"] += 1
            continue
        if job.id in batch.no_quota:
            counts["no_quota"] += 1
            continue
        outcome = batch.outcomes.get(job.id)
        if outcome is None:
            continue
        pair = (job.user_id, job.template)
        if outcome.quota == "back" and job.id in still_mine:
            back[pair] += 1
        elif outcome.quota == "gone":
            gone.add(pair)
        if outcome.kind == "sent":
            sent[job.id in batch.digested].append(job.id)
        elif outcome.kind == "no_quota":
            batch.no_quota.add(job.id)
        elif outcome.kind == "permanent" or job.attempts + 1 >= cfg["NOTIFY_MAX_ATTEMPTS"]:
            failed.append({"i": job.id, "err": outcome.reason or "gave up"})
        else:
            wait = delivery.backoff(job.attempts + 1, base=cfg["NOTIFY_RETRY_BASE_SECONDS"],
                                    cap=cfg["NOTIFY_RETRY_MAX_SECONDS"])
            retry.append({"i": job.id, "err": outcome.reason, "at": batch.now + timedelta(seconds=wait)})
        counts["wecom" if job.channel == "wecom" else outcome.kind] += 1
    one = _N.c.id == sa.bindparam("i")
    bump = {"attempts": _N.c.attempts + 1, **release}
    for digested, ids in sent.items():
        if ids:
            db.session.execute(sa.update(_N).where(_N.c.id.in_(ids), mine).values(
                state=SENT, sent_at=now, last_error=None, digested=digested, **bump))
    if batch.no_quota:
        db.session.execute(sa.update(_N).where(_N.c.id.in_(batch.no_quota), mine).values(
            state=NO_QUOTA, last_error="no subscription left", **bump))
    if failed:
        db.session.execute(sa.update(_N).where(one, mine).values(state=FAILED, last_error=sa.bindparam("err"), **bump),
                           failed)
    if retry:
        db.session.execute(sa.update(_N).where(one, mine).values(
            state=PENDING, next_attempt_at=sa.bindparam("at"), last_error=sa.bindparam("err"), **bump), retry)
    if batch.deferred:
        db.session.execute(sa.update(_N).where(one, mine).values(state=PENDING, next_attempt_at=sa.bindparam("at"),
                                                                 **release),
                           [{"i": i, "at": at} for i, at in batch.deferred.items()])
    decided = batch.committed | batch.done_before | batch.no_quota | set(batch.outcomes) | set(batch.deferred)
    unsent = {j.id for j in batch.jobs if j.id not in decided}
    if unsent:  # the batch outlived half its lease: back to the queue, due now, with its subscriptions
        db.session.execute(sa.update(_N).where(_N.c.id.in_(unsent), mine).values(
            state=PENDING, next_attempt_at=now, **release))
        for job in batch.jobs:
            if job.id in unsent and job.id in batch.quota_taken and job.id in still_mine:
                back[(job.user_id, job.template)] += 1
        counts["handed_back"] = len(unsent)
    delivery.give_back_quotas(dict(back), gone)
    db.session.commit()
    store = receipts()
    if store is not None:
        store.forget(batch.token)
    return counts


def drain(limit: int | None = None, now: datetime | None = None) -> dict:
    """Deliver what is due now, once (one batch). Returns counts by outcome."""
    limit = limit or current_app.config["NOTIFY_BATCH"]
    batch = claim(limit, now or utcnow())
    if not batch.jobs:
        return {"claimed": 0}
    # Plain rows, not ORM objects: nothing to reload after the commits of the batch.
    users = {u.id: u for u in db.session.execute(
        sa.select(User.id, User.openid, User.wecom_userid).where(User.id.in_({j.user_id for j in batch.jobs})))}
    db.session.commit()  # the users' read ends here: no transaction stays open across the sends
    _send(batch, users)
    counts = _write_outcomes(batch)
    counts["claimed"] = len(batch.jobs)
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
