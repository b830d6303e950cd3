"""Request ids, the request log line, /metrics, /readyz, /healthz and photos through nginx."""
from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from server.extensions import db
from server.ops import logs
from server.timeutil import utcnow
from tests.api.helpers import report, upload
from tests.state import force_ticket

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines():
    """The JSON lines the app writes while the test runs (as production would write them)."""
    stream = io.StringIO()
    handler = logs.make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


# --- request ids -------------------------------------------------------------------------


def test_every_answer_carries_a_request_id(client):
    res = client.get("/healthz")
    assert HEX32.fullmatch(res.headers["X-Request-ID"])
    assert client.get("/healthz").headers["X-Request-ID"] != res.headers["X-Request-ID"]
    assert HEX32.fullmatch(client.get("/no/such/path").headers["X-Request-ID"])
    assert HEX32.fullmatch(client.post("/api/v1/auth/login", json={}).headers["X-Request-ID"])


def test_a_sane_incoming_id_comes_back_and_an_insane_one_is_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "wx-7f3a-0001"}).headers["X-Request-ID"] == "wx-7f3a-0001"
    for bad in ("x" * 65, "has space", "quote\"d", "../etc"):
        rid = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert HEX32.fullmatch(rid), bad


def test_the_request_line_and_the_lines_inside_a_request_share_its_id(client, fake_wechat, log_lines):
    fake_wechat.fail("sns/jscode2session", 48001)  # an errcode we do not map: logged as a warning
    res = client.post("/api/v1/auth/login?code=NEVER-LOGGED&access_token=NOR-THIS", json={"code": "wx-code-1"},
                      headers={"X-Request-ID": "complaint-42"})
    assert res.headers["X-Request-ID"] == "complaint-42"
    mine = [line for line in log_lines() if line.get("request_id") == "complaint-42"]
    assert any(line["logger"] == "server.wechat.service" and line["level"] == "WARNING" for line in mine)
    (request_line,) = [line for line in mine if line["logger"] == "gongzhi.request"]
    assert request_line["method"] == "POST" and request_line["path"] == "/api/v1/auth/login"
    assert request_line["endpoint"] == "auth.login" and request_line["status"] == res.status_code
    assert isinstance(request_line["duration_ms"], float)
    text = json.dumps(log_lines())
    assert "NEVER-LOGGED" not in text and "NOR-THIS" not in text and "wx-code-1" not in text


def test_probes_are_logged_at_debug_only(client, log_lines):
    client.get("/healthz")
    client.get("/readyz")
    assert not [line for line in log_lines() if line["logger"] == "gongzhi.request"]


# --- /metrics ----------------------------------------------------------------------------


def _metric(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, rest = head.partition("{")
        if metric != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def test_metrics_has_latency_by_endpoint_the_outbox_and_overdue_tickets(client, demo, login):
    from server.notifications.models import PENDING, Notification

    resident = login("metrics-resident")
    first = report(client, resident)
    assert first.status_code == 201
    second = report(client, resident, description="垃圾桶满了没人清")
    assert second.status_code == 201
    client.get(f"/api/v1/tickets/{first.json['id']}", headers=resident)
    client.get(f"/api/v1/tickets/{second.json['id']}", headers=resident)
    # One ticket past its response time, not yet swept.
    force_ticket(first.json["id"], respond_by=utcnow() - timedelta(hours=1))
    db.session.commit()
    # Three notices waiting for WeChat, one of them due for ten minutes already.
    user_id = client.get("/api/v1/me", headers=resident).json["id"]
    for minutes in (10, 0, -5):
        db.session.add(Notification(user_id=user_id, template="ticket_accepted", title="已受理", body="b",
                                    channel="wechat", state=PENDING,
                                    next_attempt_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()
    pending = db.session.execute(sa.select(sa.func.count()).select_from(Notification)
                                 .where(Notification.state == PENDING)).scalar_one()
    assert pending >= 3

    res = client.get("/metrics")
    assert res.status_code == 200 and res.content_type.startswith("text/plain")
    text = res.get_data(as_text=True)
    # By endpoint name, not by path: both ticket reads are one series.
    assert _metric(text, "gongzhi_http_request_duration_seconds_count",
                   endpoint="tickets.get_ticket", method="GET", status="200") >= 2
    assert _metric(text, "gongzhi_http_request_duration_seconds_bucket",
                   endpoint="tickets.create_ticket", method="POST", status="201", le="+Inf") >= 2
    assert f"/api/v1/tickets/{first.json['id']}" not in text
    assert _metric(text, "gongzhi_outbox_depth", state="pending") == pending
    assert _metric(text, "gongzhi_outbox_depth", state="sending") == 0
    assert 590 <= _metric(text, "gongzhi_outbox_oldest_due_seconds") < 3600
    assert _metric(text, "gongzhi_tickets_overdue") == 1
    assert _metric(text, "gongzhi_tickets_open", status="submitted") == 2
    assert _metric(text, "gongzhi_metrics_database_up") == 1


def test_unmatched_paths_are_one_series(client):
    for n in range(3):
        client.get(f"/made/up/{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert _metric(text, "gongzhi_http_request_duration_seconds_count", endpoint="unmatched", status="404") >= 3
    assert "/made/up/" not in text


def test_metrics_only_for_the_allowed_addresses(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    res = client.get("/metrics", environ_base=outside)
    assert res.status_code == 404 and res.json["message"] == "not_found"
    saved = app.config["METRICS_ALLOW"]
    try:
        app.config["METRICS_ALLOW"] = "127.0.0.1, 10.0.0.0/8"
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
        assert client.get("/metrics", environ_base=outside).status_code == 404
        app.config["METRICS_ALLOW"] = "*"
        assert client.get("/metrics", environ_base=outside).status_code == 200
        app.config["METRICS_ALLOW"] = "not-a-network"
        assert client.get("/metrics").status_code == 404
    finally:
        app.config["METRICS_ALLOW"] = saved


# --- /readyz and /healthz ----------------------------------------------------------------


def test_ready_when_the_database_answers_at_the_migrations_heads(client):
    res = client.get("/readyz")
    assert res.status_code == 200, res.json
    assert res.json == {"status": "ok", "checks": {"database": "ok", "migrations": "ok",
                                                   "redis": "not_configured"}}
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_not_ready_when_the_schema_is_behind_the_code(app, client):
    from server.ops import health

    with app.app_context():
        current = sorted(health.current_heads())
    saved = app.extensions["gongzhi.ops.heads"]
    app.extensions["gongzhi.ops.heads"] = frozenset(current + ["ffffffffffff"])
    try:
        res = client.get("/readyz")
    finally:
        app.extensions["gongzhi.ops.heads"] = saved
    assert res.status_code == 503
    assert res.json["status"] == "error"
    assert res.json["checks"]["migrations"] == {"status": "behind", "current": current,
                                                "expected": sorted(current + ["ffffffffffff"])}


def test_ready_when_a_newer_release_migrated_the_database_first(client, monkeypatch):
    """Rolling deploys: the schema is ahead of this box's code; it keeps serving."""
    from server.ops import health

    monkeypatch.setattr(health, "current_heads", lambda: {"ffffffffffff"})
    res = client.get("/readyz")
    assert res.status_code == 200 and res.json["checks"]["migrations"] == "ahead"


def test_not_ready_when_redis_is_configured_and_down(app, client):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"
    try:
        res = client.get("/readyz")
    finally:
        app.config["REDIS_URL"] = saved
    assert res.status_code == 503 and res.json["checks"]["redis"] == "unreachable"
    assert res.json["checks"]["database"] == "ok"


def test_ready_with_redis_when_it_answers(app, client):
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = url
    try:
        res = client.get("/readyz")
    finally:
        app.config["REDIS_URL"] = saved
    assert res.status_code == 200 and res.json["checks"]["redis"] == "ok"


# --- photos through nginx ----------------------------------------------------------------


def test_with_accel_redirect_nginx_sends_the_photo(app, client, login):
    headers = login("accel-resident")
    res = upload(client, headers)
    assert res.status_code == 201
    url = res.json["url"]
    key = url.split("?")[0].removeprefix("/media/")  # a new upload's address is signed (its uploader's alone)
    direct = client.get(url)
    assert direct.status_code == 200 and direct.data[:2] == b"\xff\xd8" and "X-Accel-Redirect" not in direct.headers
    saved = app.config["MEDIA_ACCEL_REDIRECT_PREFIX"]
    app.config["MEDIA_ACCEL_REDIRECT_PREFIX"] = "/_media/"
    try:
        accel = client.get(url)
        missing = client.get("/media/2026/01/ab/" + "ab" * 32 + ".jpg")
        sneaky = client.get("/media/../config.py")
    finally:
        app.config["MEDIA_ACCEL_REDIRECT_PREFIX"] = saved
    assert accel.status_code == 200 and accel.data == b""
    assert accel.headers["X-Accel-Redirect"] == "/_media/" + key
    assert accel.headers["Content-Type"] == "image/jpeg"
    assert accel.headers["Cache-Control"] == direct.headers["Cache-Control"]
    assert missing.status_code == 404 and missing.json["message"] == "media_not_found"
    assert "X-Accel-Redirect" not in missing.headers
    assert sneaky.status_code == 404 and "X-Accel-Redirect" not in sneaky.headers
