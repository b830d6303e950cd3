"""Real `flask worker` processes against the fake WeChat: one SIGKILLed mid-batch loses
nothing; one SIGKILLed after WeChat accepted its batch and before the batch's outcomes were
committed sends nothing twice; two at once never send the same notification twice."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pymysql
import pytest
import redis
import sqlalchemy as sa

from server.extensions import db
from server.notifications.models import Notification
from tests.fakes.outbox import TEMPLATE, fill

pytestmark = pytest.mark.e2e


def _env(fake_wechat, database_url, **extra):
    return dict(
        os.environ, DATABASE_URL=database_url, APP_ENV="test", FLASK_APP="server.wsgi",
        WECHAT_APP_ID=fake_wechat.appid, WECHAT_APP_SECRET=fake_wechat.secret, WECHAT_API_BASE=fake_wechat.base_url,
        WECHAT_SUBSCRIBE_TEMPLATES=json.dumps({TEMPLATE: "tmpl-accepted"}), SWEEP_INTERVAL_SECONDS="3600",
        NOTIFY_BATCH="20", **extra)


REDIS_URL = "redis://127.0.0.1:6379/13"  # receipts only (random keys); other tests empty 15


def _redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return REDIS_URL


def _worker(env):
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.Popen([flask, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _queue(app, fake_wechat, count):
    with app.app_context():
        return fill(fake_wechat, count)


def _wait_all_sent(app, ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            done = db.session.execute(sa.select(sa.func.count(Notification.id)).where(
                Notification.id.in_(ids), Notification.state == "sent")).scalar_one()
            db.session.remove()
        if done == len(ids):
            return True
        time.sleep(0.3)
    return False


def _delivered(fake_wechat):
    return Counter(int(parse_qs(urlsplit(m["page"]).query)["n"][0]) for m in fake_wechat.sent_messages
                   if m["template_id"] == "tmpl-accepted")


@pytest.fixture
def outbox_env(ctx, fake_wechat, database_url, monkeypatch):
    monkeypatch.setitem(ctx.config, "WECHAT_SUBSCRIBE_TEMPLATES", json.dumps({TEMPLATE: "tmpl-accepted"}))
    fake_wechat.reset_faults()
    before = len(fake_wechat.sent_messages)
    yield
    assert len(fake_wechat.sent_messages) >= before


def test_a_worker_killed_mid_batch_loses_nothing(ctx, outbox_env, fake_wechat, database_url):
    ids = _queue(ctx, fake_wechat, 60)
    fake_wechat.delay("cgi-bin/message/subscribe/send", 0.05, times=10_000)
    already = _delivered(fake_wechat)
    env = _env(fake_wechat, database_url, NOTIFY_LEASE_SECONDS="2")
    first = _worker(env)
    # Killed inside its batches: once it has delivered a few (its start-up takes a while on
    # a busy machine), long before the 60 x 50 ms it needs for them all.
    deadline = time.monotonic() + 60
    while sum((_delivered(fake_wechat) - already).values()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    sent_before_restart = sum((_delivered(fake_wechat) - already).values())
    assert 0 < sent_before_restart < len(ids)
    second = _worker(env)
    try:
        assert _wait_all_sent(ctx, ids, timeout=60)
    finally:
        second.terminate()
        second.wait(timeout=10)
        fake_wechat.reset_faults()
    delivered = _delivered(fake_wechat) - already
    assert set(delivered) == ids                          # nothing lost
    assert sum(c - 1 for c in delivered.values()) <= 1     # at most the one in flight at the kill


def test_two_workers_never_send_the_same_notification_twice(ctx, outbox_env, fake_wechat, database_url):
    ids = _queue(ctx, fake_wechat, 200)
    fake_wechat.delay("cgi-bin/message/subscribe/send", 0.005, times=10_000)
    already = _delivered(fake_wechat)
    env = _env(fake_wechat, database_url)
    workers = [_worker(env), _worker(env)]
    try:
        assert _wait_all_sent(ctx, ids, timeout=90)
    finally:
        for w in workers:
            w.terminate()
        errors = [w.communicate(timeout=15)[1].decode(errors="replace") for w in workers]
        fake_wechat.reset_faults()
    delivered = _delivered(fake_wechat) - already
    assert set(delivered) == ids and all(c == 1 for c in delivered.values()), errors


def _claim_tokens(app):
    with app.app_context():
        tokens = set(db.session.execute(sa.select(Notification.claim_token).where(
            Notification.state == "sending", Notification.claim_token.is_not(None))).scalars())
        db.session.remove()
    return tokens


class _HeldRows:
    """Another client's lock on the rows of a claim, so the worker cannot commit their outcomes."""

    def __init__(self, database_url, token):
        url = sa.engine.make_url(database_url)
        if url.get_backend_name() == "sqlite":
            self.conn = sqlite3.connect(url.database, isolation_level=None, timeout=30)
            self.conn.execute("BEGIN IMMEDIATE")  # the database's one writer, until released
        else:
            self.conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username,
                                        password=url.password or "", database=url.database)
            with self.conn.cursor() as cur:
                cur.execute("SELECT id FROM notifications WHERE claim_token = %s FOR UPDATE", (token,))

    def release(self):
        self.conn.rollback()
        self.conn.close()


def test_a_worker_killed_between_its_sends_and_their_commit_sends_each_once(ctx, outbox_env, fake_wechat,
                                                                         database_url):
    """The window a batch opens: every send of the batch accepted, none of their outcomes
    committed, then SIGKILL. The worker taking the rows over finds the claim's receipts
    (Redis) and records them sent without sending; the fake's own count says each once."""
    ids = _queue(ctx, fake_wechat, 60)
    fake_wechat.delay("cgi-bin/message/subscribe/send", 0.02, times=10_000)
    already = _delivered(fake_wechat)
    env = _env(fake_wechat, database_url, NOTIFY_LEASE_SECONDS="4", REDIS_URL=_redis_url())
    first = _worker(env)
    held = None
    try:
        deadline = time.monotonic() + 60
        while not sum((_delivered(fake_wechat) - already).values()) and time.monotonic() < deadline:
            time.sleep(0.01)
        tokens = _claim_tokens(ctx)
        assert len(tokens) == 1, tokens               # its first batch, being sent
        token = tokens.pop()
        held = _HeldRows(database_url, token)
        # Every send of the batch accepted and its receipt written: the worker is past its
        # last send, waiting to commit the batch's outcomes (no send in flight to lose).
        receipts = redis.Redis.from_url(REDIS_URL)
        while time.monotonic() < deadline and not (
                sum((_delivered(fake_wechat) - already).values()) == 20
                and receipts.scard(f"gongzhi:outbox:accepted:{token}") == 20):
            time.sleep(0.02)
        time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        if held is not None:
            held.release()
    sent_by_first = sum((_delivered(fake_wechat) - already).values())
    assert sent_by_first == 20                        # the whole first batch (NOTIFY_BATCH=20)
    with ctx.app_context():
        assert db.session.execute(sa.select(sa.func.count(Notification.id)).where(
            Notification.state == "sent")).scalar_one() == 0     # none of it recorded
        db.session.remove()
    second = _worker(env)
    try:
        assert _wait_all_sent(ctx, ids, timeout=60)
    finally:
        second.terminate()
        errors = second.communicate(timeout=15)[1].decode(errors="replace")
        fake_wechat.reset_faults()
    delivered = _delivered(fake_wechat) - already
    assert set(delivered) == ids and all(c == 1 for c in delivered.values()), (delivered, errors)
