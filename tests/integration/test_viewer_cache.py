"""The signed-in user kept per process (server/auth/viewer_cache.py): a change made in one
process shows in another from its next request on, as it does without the cache.

Two apps on the test database stand for two gunicorn workers; they share a real Redis
(127.0.0.1:6379, database 15, emptied for each test).
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from server import create_app
from server.auth import operations as auth_ops
from server.auth.models import AuthToken, User
from server.extensions import db
from server.timeutil import utcnow
from tests.api.helpers import report
from tests.conftest import agree

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="module")
def _redis():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield client
    client.flushdb()


def _worker(app, redis_url=REDIS_URL, seconds=60):
    config = app.config.copy()
    config["REDIS_URL"] = redis_url
    config["VIEWER_CACHE_SECONDS"] = seconds
    worker = create_app(config)
    statements: list[str] = []
    with worker.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    worker.statements = statements
    return worker


@pytest.fixture
def workers(demo, _redis):
    """Two workers of the service, and a third whose Redis cannot be reached."""
    _redis.flushdb()
    one, two, offline = _worker(demo), _worker(demo), _worker(demo, "redis://127.0.0.1:1/0")
    yield one, two, offline
    for worker in (one, two, offline):
        with worker.app_context():
            db.engine.dispose()


def _login(worker, name: str) -> dict:
    client = worker.test_client()
    res = client.post("/api/v1/auth/login", json={"code": f"dev:{name}"})
    assert res.status_code == 200, res.json
    headers = {"Authorization": f"Bearer {res.json['token']}"}
    agree(client, headers)
    return headers


def _get(worker, path: str, headers: dict):
    return worker.test_client().get(path, headers=headers)


def _warm(worker, headers: dict) -> None:
    """A token's first request in a process learns whose it is, the second keeps the user."""
    for _ in range(2):
        assert _get(worker, "/api/v1/me", headers).status_code == 200


def _sign_in_queries(worker) -> int:
    return sum("auth_tokens" in statement for statement in worker.statements)


def test_a_kept_user_is_not_read_again(workers):
    one, two, _ = workers
    headers = _login(one, "kept-resident")
    _warm(two, headers)
    before = _sign_in_queries(two)
    for _ in range(3):
        assert _get(two, "/api/v1/tickets?scope=mine", headers).status_code == 200
    assert _sign_in_queries(two) == before


def test_a_logout_refuses_the_token_in_the_other_worker_at_once(workers):
    one, two, _ = workers
    headers = _login(one, "leaving-resident")
    _warm(two, headers)
    assert one.test_client().post("/api/v1/auth/logout", headers=headers).status_code == 204
    res = _get(two, "/api/v1/me", headers)
    assert res.status_code == 401
    assert res.json["message"] == "unauthorized"


def test_a_change_shows_after_redis_lost_its_keys(workers, _redis):
    one, two, _ = workers
    headers = _login(one, "restarted-resident")
    other = _login(one, "restarted-resident")
    assert one.test_client().post("/api/v1/auth/logout", headers=other).status_code == 204  # the user's first value
    _warm(two, headers)  # kept with that value
    _redis.flushdb()  # Redis restarts: a counter would start again and come back to the value kept
    assert one.test_client().post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert _get(two, "/api/v1/me", headers).status_code == 401


def test_a_post_granted_then_revoked_changes_the_scope_at_once(workers):
    one, two, _ = workers
    headers = _login(one, "new-grid-worker")
    _warm(two, headers)
    assert _get(two, "/api/v1/tickets?scope=unit", headers).status_code == 403
    with one.app_context():
        auth_ops.grant_post("dev:new-grid-worker", "gz-demo-hq-1", "grid_worker")
        db.session.commit()
    assert _get(two, "/api/v1/tickets?scope=unit", headers).status_code == 200
    with one.app_context():
        assert auth_ops.revoke_post("dev:new-grid-worker", "gz-demo-hq-1", "grid_worker")
        db.session.commit()
    res = _get(two, "/api/v1/tickets?scope=unit", headers)
    assert res.status_code == 403
    assert res.json["message"] == "not_staff"


def test_a_post_revoked_by_a_process_that_keeps_nothing_is_refused_at_once(workers):
    """Another box, or the admin command, run with VIEWER_CACHE_SECONDS=0: it still tells Redis."""
    one, two, _ = workers
    command = _worker(one, seconds=0)
    headers = _login(one, "revoked-elsewhere")
    with command.app_context():
        auth_ops.grant_post("dev:revoked-elsewhere", "gz-demo-hq-1", "grid_worker")
        db.session.commit()
    _warm(two, headers)
    assert _get(two, "/api/v1/tickets?scope=unit", headers).status_code == 200
    with command.app_context():
        assert auth_ops.revoke_post("dev:revoked-elsewhere", "gz-demo-hq-1", "grid_worker")
        db.session.commit()
    assert _get(two, "/api/v1/tickets?scope=unit", headers).status_code == 403
    with command.app_context():
        db.engine.dispose()


def test_a_deleted_account_is_refused_at_once(workers):
    one, two, _ = workers
    headers = _login(one, "erased-resident")
    _warm(two, headers)
    assert one.test_client().delete("/api/v1/me", headers=headers).status_code == 204
    assert _get(two, "/api/v1/me", headers).status_code == 401


def test_a_bound_phone_shows_on_the_reporters_own_ticket_at_once(workers, fake_wechat):
    one, two, _ = workers
    headers = _login(one, "phone-resident")
    ticket = report(one.test_client(), headers)
    assert ticket.status_code == 201, ticket.json
    path = f"/api/v1/tickets/{ticket.json['id']}"
    _warm(two, headers)
    assert _get(two, path, headers).json["reporter"]["phone_masked"] is None
    fake_wechat.add_phone_code("cache-phone", phone="13955556666")
    assert one.test_client().post("/api/v1/me/phone", json={"code": "cache-phone"}, headers=headers).status_code == 200
    assert _get(two, path, headers).json["reporter"]["phone_masked"] == "139****6666"


def test_a_bulk_change_that_names_nobody_refreshes_everyone(workers):
    one, two, _ = workers
    headers = _login(one, "bulk-resident")
    _warm(two, headers)
    before = _sign_in_queries(two)
    with one.app_context():
        db.session.execute(sa.update(User).where(User.openid == "dev:bulk-resident").values(nickname="改过的名字"))
        db.session.commit()
    assert _get(two, "/api/v1/me", headers).status_code == 200
    assert _sign_in_queries(two) == before + 1


def test_an_expired_token_is_refused_though_kept(workers):
    one, two, _ = workers
    headers = _login(one, "expiring-resident")
    with one.app_context():  # straight to the table: no notice in Redis
        db.session.connection().execute(sa.update(AuthToken.__table__).values(
            expires_at=utcnow() + timedelta(seconds=2)))
        db.session.commit()
    _warm(two, headers)
    time.sleep(2.5)
    assert _get(two, "/api/v1/me", headers).status_code == 401


def test_without_redis_every_request_reads_its_user(workers):
    one, _, offline = workers
    headers = _login(one, "offline-resident")
    for _ in range(3):
        assert _get(offline, "/api/v1/me", headers).status_code == 200
    assert one.test_client().post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert _get(offline, "/api/v1/me", headers).status_code == 401
