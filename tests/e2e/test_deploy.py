"""Production-shaped: gunicorn with deploy/gunicorn.conf.py (2 workers) on a fresh MariaDB
database and Redis, JSON logs, multiprocess metrics, rate limits shared through Redis,
photos handed to nginx, a graceful reload; and nginx with deploy/nginx/gongzhi.conf in
front when nginx is installed.

Skipped, saying why, when MariaDB/MySQL or Redis does not answer on 127.0.0.1.
"""
from __future__ import annotations

import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests
import urllib3

from tests.e2e.live import BIN, flask, free_port, fresh_mysql_database, healthy, production_env, redis_scratch
from tests.e2e.test_deploy_files import nginx_config

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Redis database 14 is this test's scratch space; its keys carry a prefix of this run.
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/14")
LOGIN_LIMIT = 5
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def mariadb_url():
    with fresh_mysql_database("gongzhi_e2e") as url:
        yield url


@pytest.fixture(scope="module")
def redis_prefix():
    with redis_scratch(REDIS_URL, "gongzhi-e2e", also=("gongzhi:wechat*",)) as scratch:
        yield scratch


class Live:
    """gunicorn's master process, its base URL and its log file (stdout and stderr)."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Live":
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
             "server.wsgi:app"], env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        out.close()
        if healthy(self.base, 30):
            return self
        self.stop()
        pytest.fail("gunicorn did not start: " + self.log.read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def live(fake_wechat, tmp_path_factory, mariadb_url, redis_prefix):
    _, prefix = redis_prefix
    tmp = tmp_path_factory.mktemp("deploy")
    env = production_env(fake_wechat, tmp)
    env.update(DATABASE_URL=mariadb_url, REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
               RATELIMIT_LOGIN=f"{LOGIN_LIMIT}/minute", LOG_FORMAT="json", GUNICORN_WORKERS="2",
               PROMETHEUS_MULTIPROC_DIR=str(tmp / "prometheus"), PROXY_FIX_HOPS="1",
               MEDIA_ACCEL_REDIRECT_PREFIX="/_media/")
    env.pop("RATELIMIT_STORAGE_URI", None)
    flask(env, "db", "upgrade", "heads")
    flask(env, "seed-demo")
    server = Live(env, tmp / "gunicorn.log").start()
    server.media = tmp / "media"
    server.tmp = tmp
    try:
        yield server
    finally:
        server.stop()
    text = server.log.read_text()
    # Every line gunicorn and the app wrote is one JSON object ...
    for line in text.splitlines():
        if line.strip():
            json.loads(line)
    # ... and none holds a secret, a login code or a query string.
    assert fake_wechat.secret not in text
    for marker in ("E2E-LEAK-MARKER", "deploy-code-", "SessionKeyDeploy"):
        assert marker not in text


def _client(addr: str) -> dict:
    """Headers of a resident at `addr` (gunicorn trusts one X-Forwarded-For hop here, as behind nginx)."""
    return {"X-Forwarded-For": addr}


def _login(live, fake_wechat, addr: str) -> dict:
    code = f"deploy-code-{secrets.token_hex(6)}"
    fake_wechat.add_login_code(code, f"deploy-openid-{secrets.token_hex(6)}", session_key="SessionKeyDeploy==")
    res = requests.post(live.base + "/api/v1/auth/login", json={"code": code}, headers=_client(addr), timeout=10)
    assert res.status_code == 200, res.text
    headers = {"Authorization": f"Bearer {res.json()['token']}", **_client(addr)}
    version = requests.get(live.base + "/api/v1/me/consent", headers=headers, timeout=10).json()["current_version"]
    agreed = requests.post(live.base + "/api/v1/me/consent", json={"policy_version": version}, headers=headers,
                           timeout=10)
    assert agreed.status_code == 201, agreed.text
    return headers


def _jpeg() -> bytes:
    from tests.api.helpers import jpeg_bytes

    return jpeg_bytes(color=(12, 140, 200), size=(120, 90))


def _metric(text: str, name: str, **labels) -> float | None:
    from tests.api.test_observability import _metric as parse

    return parse(text, name, **labels)


def test_request_id_round_trip_and_in_the_json_log(live):
    res = requests.get(live.base + "/api/v1/units/locate", params={"lat": 30.57, "lng": 114.27,
                                                                     "token": "E2E-LEAK-MARKER"},
                       headers={"X-Request-ID": "resident-complaint-0001"}, timeout=10)
    assert res.headers["X-Request-ID"] == "resident-complaint-0001"
    replaced = requests.get(live.base + "/healthz", headers={"X-Request-ID": "bad id!"}, timeout=10)
    assert HEX32.fullmatch(replaced.headers["X-Request-ID"])
    time.sleep(0.3)
    mine = [line for line in live.lines() if line.get("request_id") == "resident-complaint-0001"]
    (request_line,) = [line for line in mine if line["logger"] == "gongzhi.request"]
    assert request_line["path"] == "/api/v1/units/locate" and request_line["method"] == "GET"
    assert request_line["status"] == res.status_code and request_line["endpoint"] == "units.locate"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", request_line["time"])
    # One line for the request: gunicorn's access line is off with LOG_FORMAT=json.
    assert not [line for line in live.lines() if line["logger"] == "gunicorn.access"]


def test_ready_with_database_migrations_and_redis(live):
    res = requests.get(live.base + "/readyz", timeout=10)
    assert res.status_code == 200, res.text
    assert res.json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}


def test_report_with_a_photo_then_metrics_from_every_worker(live, fake_wechat):
    resident = _login(live, fake_wechat, "198.51.100.20")
    photo = requests.post(live.base + "/api/v1/media", headers=resident,
                          files={"file": ("p.jpg", io.BytesIO(_jpeg()), "image/jpeg")}, timeout=20)
    assert photo.status_code == 201, photo.text
    live.photo = photo.json()
    ticket = requests.post(live.base + "/api/v1/tickets", headers=resident, timeout=20, json={
        "category": "streetlight", "description": "路灯不亮了，晚上很黑", "lat": 30.57, "lng": 114.27,
        "media": [photo.json()["id"]]})
    assert ticket.status_code == 201, ticket.text
    # The app names the file; nginx would send it.
    served = requests.get(live.base + photo.json()["url"], timeout=10)
    assert served.status_code == 200 and served.content == b""
    key = photo.json()["url"].split("?")[0].removeprefix("/media/")  # a new upload: a signed address
    assert served.headers["X-Accel-Redirect"] == "/_media/" + key
    assert (live.media / key).read_bytes()[:2] == b"\xff\xd8"

    for _ in range(20):
        assert requests.get(live.base + "/healthz", timeout=10).status_code == 200
    for _ in range(3):  # whichever worker answers the scrape adds up both workers' counts
        text = requests.get(live.base + "/metrics", timeout=10).text
        assert _metric(text, "gongzhi_http_request_duration_seconds_count", endpoint="healthz", method="GET",
                       status="200") >= 20
        assert _metric(text, "gongzhi_http_request_duration_seconds_count", endpoint="tickets.create_ticket",
                       method="POST", status="201") == 1
        assert _metric(text, "gongzhi_outbox_depth", state="pending") is not None
        assert _metric(text, "gongzhi_tickets_open", status="submitted") == 1
        assert _metric(text, "gongzhi_tickets_overdue") == 0
    # Not for the public: an address outside METRICS_ALLOW.
    assert requests.get(live.base + "/metrics", headers=_client("203.0.113.5"), timeout=10).status_code == 404


def test_login_limit_is_shared_by_the_workers_through_redis(live, fake_wechat, redis_prefix):
    client, prefix = redis_prefix
    addr = "198.51.100.50"
    codes = []
    for i in range(LOGIN_LIMIT + 1):
        code = f"deploy-code-limit-{i}-{secrets.token_hex(4)}"
        fake_wechat.add_login_code(code, f"deploy-openid-limit-{i}")
        codes.append(requests.post(live.base + "/api/v1/auth/login", json={"code": code}, headers=_client(addr),
                                   timeout=10))
    assert [r.status_code for r in codes] == [200] * LOGIN_LIMIT + [429]
    last = codes[-1]
    assert last.json() == {"code": 429, "status": "Too Many Requests", "message": "rate_limited",
                           "errors": {"detail": "操作太频繁，请稍后再试"}}
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    # The counter is in Redis (not in either worker), and another address is not held back.
    assert [k for k in client.scan_iter(f"*{prefix}*") if addr.encode() in k]
    other = f"deploy-code-other-{secrets.token_hex(4)}"
    fake_wechat.add_login_code(other, "deploy-openid-other")
    assert requests.post(live.base + "/api/v1/auth/login", json={"code": other}, headers=_client("198.51.100.51"),
                         timeout=10).status_code == 200


def test_graceful_reload_keeps_answering(live):
    booted = sum("Booting worker" in line["message"] for line in live.lines())
    os.kill(live.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 20
    exited = sum("Worker exiting" in line["message"] for line in live.lines())

    def ask(attempts=3):
        # A connection a retiring worker had accepted is reset (gunicorn's own reload drops a
        # few, benoitc/gunicorn#3394); with two workers retiring, two in a row can be. What the
        # reload keeps is an answer to a client that retries an idempotent GET.
        for attempt in range(attempts):
            try:
                return requests.get(live.base + "/readyz", timeout=10).status_code
            except requests.ConnectionError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05)

    answers = []
    while time.monotonic() < deadline:
        answers.append(ask())
        if sum("Booting worker" in line["message"] for line in live.lines()) >= booted + 2 and len(answers) > 5 \
                and sum("Worker exiting" in line["message"] for line in live.lines()) >= exited + 2:
            break
        time.sleep(0.1)
    assert set(answers) == {200}
    assert sum("Booting worker" in line["message"] for line in live.lines()) >= booted + 2
    assert any("Hang up" in line["message"] for line in live.lines())


def test_nginx_in_front(live, fake_wechat, tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    if not getattr(live, "photo", None):
        pytest.skip("needs the photo uploaded by test_report_with_a_photo_then_metrics_from_every_worker")
    ports = {"http": free_port(), "https": free_port()}
    # The test's load balancer is 127.0.0.1 (the real site trusts only the private networks).
    conf = nginx_config(tmp_path, upstream=f"127.0.0.1:{live.port}", listen=ports, media=str(live.media),
                        extra_site="    set_real_ip_from 127.0.0.1;")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    https = f"https://127.0.0.1:{ports['https']}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(https + "/healthz", verify=False, timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("nginx did not start: " + (tmp_path / "logs" / "error.log").read_text()[-2000:])
                time.sleep(0.2)

        health = requests.get(https + "/api/v1/units/locate", params={"lat": 30.57, "lng": 114.27}, verify=False,
                              timeout=10)
        assert health.status_code == 200
        # nginx's $request_id, which the app took as its own: one header, one value.
        assert HEX32.fullmatch(health.headers["X-Request-ID"])
        assert "max-age=31536000" in health.headers["Strict-Transport-Security"]
        rid = health.headers["X-Request-ID"]
        time.sleep(0.3)
        assert any(line.get("request_id") == rid and line["logger"] == "gongzhi.request" for line in live.lines())

        # The photo: the app says where, nginx sends the bytes.
        photo = requests.get(https + live.photo["url"], verify=False, timeout=10)
        key = live.photo["url"].split("?")[0].removeprefix("/media/")
        assert photo.status_code == 200 and photo.content == (live.media / key).read_bytes()
        assert photo.headers["Content-Type"] == "image/jpeg"
        assert photo.headers["X-Content-Type-Options"] == "nosniff"
        assert "immutable" in photo.headers["Cache-Control"]
        assert requests.get(https + "/_media/" + key, verify=False, timeout=10).status_code == 404  # internal only
        assert requests.get(https + "/media/2026/01/ab/" + "ab" * 32 + ".jpg", verify=False,
                            timeout=10).status_code == 404

        # gzip for JSON; the metrics are not on the public site; plain HTTP goes to HTTPS.
        spec = requests.get(https + "/api/openapi.json", verify=False, timeout=10,
                            headers={"Accept-Encoding": "gzip"})
        assert spec.status_code == 200 and spec.headers["Content-Encoding"] == "gzip"
        assert requests.get(https + "/metrics", verify=False, timeout=10).status_code == 404
        plain = requests.get(f"http://127.0.0.1:{ports['http']}/api/v1/me", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

        # A photo larger than client_max_body_size is refused by nginx before the app reads it.
        conn = http.client.HTTPSConnection("127.0.0.1", ports["https"], timeout=10,
                                           context=ssl._create_unverified_context())
        conn.putrequest("POST", "/api/v1/media")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(12 * 1024 * 1024))
        conn.endheaders()
        assert conn.getresponse().status == 413
        conn.close()

        # The client's address comes from the load balancer's X-Forwarded-For, through nginx to the
        # app: one address runs out of logins, the next one does not.
        statuses = []
        for i in range(LOGIN_LIMIT + 1):
            code = f"deploy-code-nginx-{i}-{secrets.token_hex(4)}"
            fake_wechat.add_login_code(code, f"deploy-openid-nginx-{i}")
            statuses.append(requests.post(https + "/api/v1/auth/login", json={"code": code}, verify=False,
                                          headers={"X-Forwarded-For": "192.0.2.77"}, timeout=10).status_code)
        assert statuses == [200] * LOGIN_LIMIT + [429]
        code = f"deploy-code-nginx-other-{secrets.token_hex(4)}"
        fake_wechat.add_login_code(code, "deploy-openid-nginx-other")
        assert requests.post(https + "/api/v1/auth/login", json={"code": code}, verify=False,
                             headers={"X-Forwarded-For": "192.0.2.78"}, timeout=10).status_code == 200
        access = (tmp_path / "logs" / "gongzhi.access.log").read_text()
        assert "192.0.2.77" in access and "rid=" in access
    finally:
        proc.terminate()
        proc.wait(timeout=15)
