"""Rate limits: login per address, reports and uploads per user, Open311 POST per address.

The suite's config sets every limit out of reach; these tests lower one at a time, and
check the answer: 429 in the one envelope (message "rate_limited") with Retry-After, or
in Open311's own error list.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from server.extensions import limiter
from tests.api.helpers import IN_HQ_1_1, report, upload

BASE = "/open311/v2"


@pytest.fixture
def limits(app):
    """limits(RATELIMIT_LOGIN="3/minute") for one test; counters start from zero."""
    saved = {}

    def _set(**values):
        for name, value in values.items():
            saved.setdefault(name, app.config[name])
            app.config[name] = value
        limiter.reset()

    yield _set
    app.config.update(saved)
    limiter.reset()


def assert_rate_limited(res, *, at_most: int):
    assert res.status_code == 429, res.get_data(as_text=True)
    assert res.json == {"code": 429, "status": "Too Many Requests", "message": "rate_limited",
                        "errors": {"detail": "操作太频繁，请稍后再试"}}
    assert 1 <= int(res.headers["Retry-After"]) <= at_most
    assert res.headers["X-Request-ID"]


def _dev_login(client, name, addr="192.0.2.10"):
    return client.post("/api/v1/auth/login", json={"code": f"dev:{name}"}, environ_base={"REMOTE_ADDR": addr})


def test_login_is_limited_per_address(client, demo, limits):
    limits(RATELIMIT_LOGIN="3/minute")
    for i in range(3):
        assert _dev_login(client, f"rl-{i}").status_code == 200
    assert_rate_limited(_dev_login(client, "rl-3"), at_most=60)
    # Another address has its own allowance.
    assert _dev_login(client, "rl-4", addr="192.0.2.11").status_code == 200
    # A refused login counts too: wrong codes cannot be tried without end.
    assert _dev_login(client, "rl-5").status_code == 429


def test_reports_are_limited_per_user(client, demo, login, limits):
    alice, bob = login("rl-alice"), login("rl-bob")
    limits(RATELIMIT_REPORT="2/hour")
    for _ in range(2):
        assert report(client, alice).status_code == 201
    assert_rate_limited(report(client, alice), at_most=3600)
    # Bob, from the same address, is not held back by Alice.
    assert report(client, bob).status_code == 201
    # Reading is not limited.
    assert client.get("/api/v1/tickets", headers=alice).status_code == 200


def test_uploads_are_limited_per_user(client, demo, login, limits):
    alice, bob = login("up-alice"), login("up-bob")
    limits(RATELIMIT_UPLOAD="2/hour")
    for _ in range(2):
        assert upload(client, alice).status_code == 201
    assert_rate_limited(upload(client, alice), at_most=3600)
    assert upload(client, bob).status_code == 201


def test_limits_off_the_endpoints_named_are_untouched(client, demo, login, limits):
    headers = login("rl-reader")
    limits(RATELIMIT_LOGIN="1/minute", RATELIMIT_REPORT="1/hour", RATELIMIT_UPLOAD="1/hour")
    for _ in range(5):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_open311_post_is_limited_per_address_in_the_spec_error_shape(client, demo, limits):
    from server.extensions import db
    from server.open311 import keys as o311

    _, key = o311.create_key("rl-civic-app")
    db.session.commit()
    limits(RATELIMIT_OPEN311_POST="2/minute")
    data = {"api_key": key, "service_code": "streetlight", "lat": str(IN_HQ_1_1["lat"]),
            "long": str(IN_HQ_1_1["lng"]), "description": "路灯不亮了，晚上很黑"}
    for _ in range(2):
        assert client.post(f"{BASE}/requests.json", data=data).status_code == 201
    res = client.post(f"{BASE}/requests.json", data=data)
    assert res.status_code == 429
    assert res.json == [{"code": 429, "description": "too many requests from this address; retry later"}]
    assert 1 <= int(res.headers["Retry-After"]) <= 60
    xml = client.post(f"{BASE}/requests.xml", data=data)
    assert xml.status_code == 429 and b"<errors>" in xml.data and xml.headers["Retry-After"]
    # GETs are not limited per address (the per-key limit still counts them).
    assert client.get(f"{BASE}/services.json").status_code == 200


def test_behind_a_proxy_the_forwarded_address_is_the_client(database_url, app, tmp_path):
    """PROXY_FIX_HOPS=1: two residents behind one nginx are two addresses, not one."""
    from server import create_app
    from server.config import TestConfig

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.MEDIA_ROOT = str(tmp_path)
    config.PROXY_FIX_HOPS = 1
    config.RATELIMIT_LOGIN = "1/minute"
    proxied = create_app(config)
    try:
        limiter.reset()
        client = proxied.test_client()
        nginx = {"REMOTE_ADDR": "127.0.0.1"}

        def attempt(client_addr):
            return client.post("/api/v1/auth/login", json={"code": "dev:proxied"}, environ_base=nginx,
                               headers={"X-Forwarded-For": client_addr})

        assert attempt("198.51.100.1").status_code == 200
        assert attempt("198.51.100.2").status_code == 200
        assert attempt("198.51.100.1").status_code == 429
    finally:
        limiter.init_app(app)  # the suite's app (and its storage) again
        limiter.reset()


def test_redis_down_fails_soft_with_a_log_line(tmp_path):
    """Redis unreachable: no 500 and no lock-out; the limiter says so in the log and counts
    in process memory until Redis answers again."""
    script = textwrap.dedent("""\
        import json, sys
        from flask_migrate import upgrade
        from server import create_app
        from server.config import TestConfig
        from server.ops.logs import configure_logging

        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = "sqlite:///" + sys.argv[1] + "/rl.sqlite3"
        config.MEDIA_ROOT = sys.argv[1]
        config.RATELIMIT_STORAGE_URI = "redis://127.0.0.1:9/0"
        config.RATELIMIT_LOGIN = "2/minute"
        config.LOG_FORMAT = "json"
        app = create_app(config)
        with app.app_context():
            upgrade(revision="heads")
        configure_logging(app)  # alembic's env.py replaced the root handlers
        client = app.test_client()
        codes = [client.post("/api/v1/auth/login", json={"code": "dev:r%d" % i}).status_code for i in range(3)]
        print(json.dumps(codes))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [200, 200, 429]
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(line["logger"] == "flask-limiter" and "falling back to in-memory" in line["message"]
               and line["level"] == "WARNING" and line.get("request_id") for line in lines), done.stderr[-3000:]
