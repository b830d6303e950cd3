"""Two app boxes behind nginx: two gunicorn instances (one per "box", each with its own
notification worker) sharing a fresh MariaDB database, Redis and the photo store.

- a report filed through one box is read, with its photo, through the other;
- a staff post revoked through one box (the admin command, run with that box's settings) is
  refused by the other from its very next request;
- the login limit counts the requests to both boxes together (Redis);
- the outbox is drained by the workers of both boxes, each notification sent once.

nginx listens on three ports: one spreading requests over both boxes (the site), and one
in front of each box alone, so that a request can be sent "through" a chosen box. Skipped,
saying why, without nginx, MariaDB or Redis.
"""
from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.live import BIN, flask, free_port, fresh_mysql_database, healthy, production_env, redis_scratch
from tests.fakes.outbox import TEMPLATE, TEMPLATE_ID

pytestmark = [
    pytest.mark.e2e,
    # It makes its own database on the shared server, so it runs once per `make test`: on the SQLite pass.
    pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("mysql"),
                       reason="brings its own MariaDB database; run once, on the SQLite pass"),
]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/12"  # this test's; its keys carry a prefix of the run
LOGIN_LIMIT = 6


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    return found


@pytest.fixture(scope="module")
def mariadb_url():
    with fresh_mysql_database("gongzhi_boxes") as url:
        yield url


@pytest.fixture(scope="module")
def redis_prefix():
    with redis_scratch(REDIS_URL, "gongzhi-boxes", also=()) as scratch:
        yield scratch


class Box:
    """One app box: gunicorn (deploy config) and a `flask worker`, with their logs."""

    def __init__(self, name: str, env: dict, tmp: Path):
        self.name, self.env, self.tmp = name, env, tmp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web_log, self.worker_log = tmp / f"{name}-web.log", tmp / f"{name}-worker.log"
        self.web = self.worker = None

    def start(self) -> "Box":
        with open(self.web_log, "ab") as out:
            self.web = subprocess.Popen(
                [os.path.join(BIN, "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
                 "server.wsgi:app"], env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        if healthy(self.base, 40):
            return self
        self.stop()
        pytest.fail(f"gunicorn of box {self.name} did not start: " + self.web_log.read_text(errors="replace")[-3000:])

    def start_worker(self) -> None:
        with open(self.worker_log, "ab") as out:
            self.worker = subprocess.Popen([os.path.join(BIN, "flask"), "worker"], env=self.env, stdout=out,
                                           stderr=subprocess.STDOUT, cwd=ROOT)

    def flask(self, *args: str) -> str:
        return flask(self.env, *args)

    def stop(self) -> None:
        for proc in (self.worker, self.web):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def delivered_batches(self) -> int:
        """Batches this box's worker delivered, from its JSON log."""
        count = 0
        for line in self.worker_log.read_text(errors="replace").splitlines():
            if line.startswith("{") and "delivered" in line and json.loads(line).get("logger") == "server.notifications.worker":
                count += 1
        return count


def _nginx_conf(tmp: Path, boxes: list[Box], media: Path) -> tuple[Path, dict]:
    """nginx in front of the boxes: the site spreads over both; one port per box goes to it alone."""
    ports = {"site": free_port(), **{box.name: free_port() for box in boxes}}
    (tmp / "logs").mkdir(exist_ok=True)
    upstreams = "\n".join(
        ["upstream gongzhi_app {\n" + "".join(f"    server 127.0.0.1:{b.port} max_fails=3 fail_timeout=10s;\n"
                                                for b in boxes) + "}"]
        + [f"upstream box_{b.name} {{ server 127.0.0.1:{b.port}; }}" for b in boxes])

    def server(port: int, upstream: str) -> str:
        return f"""
server {{
    listen 127.0.0.1:{port};
    client_max_body_size 11m;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Request-ID $request_id;
    add_header X-Upstream $upstream_addr always;
    location / {{ proxy_pass http://{upstream}; }}
    location /_media/ {{ internal; alias {media}/; }}
}}
"""
    sites = server(ports["site"], "gongzhi_app") + "".join(server(ports[b.name], f"box_{b.name}") for b in boxes)
    temp = " ".join(f"{kind}_temp_path {tmp}/{kind}_temp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/logs/error.log;\nworker_processes 1;\n"
                    f"events {{ worker_connections 256; }}\n"
                    f"http {{\n  include /etc/nginx/mime.types;\n  access_log {tmp}/logs/access.log;\n  {temp}\n"
                    f"{upstreams}\n{sites}}}\n")
    return conf, {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


@pytest.fixture(scope="module")
def site(fake_wechat, tmp_path_factory, mariadb_url, redis_prefix):
    nginx = _nginx()
    _, prefix = redis_prefix
    tmp = tmp_path_factory.mktemp("boxes")
    media = tmp / "media"  # the shared photo store (NFS or the like between real boxes)
    env = production_env(fake_wechat, tmp)
    env.update(DATABASE_URL=mariadb_url, REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
               RATELIMIT_LOGIN=f"{LOGIN_LIMIT}/minute", LOG_FORMAT="json", GUNICORN_WORKERS="1",
               PROXY_FIX_HOPS="1", MEDIA_ACCEL_REDIRECT_PREFIX="/_media/", MEDIA_ROOT=str(media),
               WECHAT_SUBSCRIBE_TEMPLATES=json.dumps({TEMPLATE: TEMPLATE_ID}), NOTIFY_BATCH="20",
               SWEEP_INTERVAL_SECONDS="3600")
    env.pop("RATELIMIT_STORAGE_URI", None)
    flask(env, "db", "upgrade", "heads")
    flask(env, "seed-demo")
    boxes = [Box("a", dict(env, PROMETHEUS_MULTIPROC_DIR=str(tmp / "prom-a")), tmp),
             Box("b", dict(env, PROMETHEUS_MULTIPROC_DIR=str(tmp / "prom-b")), tmp)]
    proc = None
    try:
        for box in boxes:
            box.start()
        conf, urls = _nginx_conf(tmp, boxes, media)
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                if all(requests.get(u + "/healthz", timeout=2).status_code == 200 for u in urls.values()):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("nginx did not start: " + (tmp / "logs" / "error.log").read_text()[-2000:])
            time.sleep(0.2)
        yield {"boxes": {b.name: b for b in boxes}, "urls": urls, "media": media, "env": env}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        for box in boxes:
            box.stop()


def _login(base: str, fake_wechat, openid: str | None = None, addr: str = "198.51.100.7") -> tuple[dict, str]:
    code = f"boxes-code-{secrets.token_hex(6)}"
    openid = openid or f"boxes-openid-{secrets.token_hex(6)}"
    fake_wechat.add_login_code(code, openid)
    res = requests.post(base + "/api/v1/auth/login", json={"code": code}, headers={"X-Forwarded-For": addr},
                        timeout=10)
    assert res.status_code == 200, res.text
    headers = {"Authorization": f"Bearer {res.json()['token']}", "X-Forwarded-For": addr}
    version = requests.get(base + "/api/v1/me/consent", headers=headers, timeout=10).json()["current_version"]
    assert requests.post(base + "/api/v1/me/consent", json={"policy_version": version}, headers=headers,
                         timeout=10).status_code == 201
    return headers, openid


def test_the_site_spreads_over_both_boxes(site):
    served = Counter(requests.get(site["urls"]["site"] + "/healthz", timeout=5).headers["X-Upstream"]
                     for _ in range(10))
    assert served.keys() == {f"127.0.0.1:{b.port}" for b in site["boxes"].values()}


def test_a_report_filed_through_one_box_is_read_with_its_photo_through_the_other(site, fake_wechat):
    a, b = site["urls"]["a"], site["urls"]["b"]
    resident, _ = _login(a, fake_wechat)
    from tests.api.helpers import jpeg_bytes

    photo = requests.post(a + "/api/v1/media", headers=resident, timeout=20,
                          files={"file": ("p.jpg", io.BytesIO(jpeg_bytes(color=(10, 150, 90), size=(120, 90))),
                                          "image/jpeg")})
    assert photo.status_code == 201, photo.text
    ticket = requests.post(a + "/api/v1/tickets", headers=resident, timeout=20, json={
        "category": "streetlight", "description": "两台机器之间：路灯不亮", "lat": 30.57, "lng": 114.27,
        "media": [photo.json()["id"]]})
    assert ticket.status_code == 201, ticket.text
    read = requests.get(f"{b}/api/v1/tickets/{ticket.json()['id']}", headers=resident, timeout=10)
    assert read.status_code == 200 and read.headers["X-Upstream"] == f"127.0.0.1:{site['boxes']['b'].port}"
    assert read.json()["description"] == "两台机器之间：路灯不亮"
    urls = [m["url"] for m in read.json()["media"]]
    assert urls, read.json()
    served = requests.get(b + urls[0], headers=resident, timeout=10)  # box b checks the address, nginx sends it
    key = urls[0].split("?")[0].removeprefix("/media/")
    assert served.status_code == 200 and served.content == (site["media"] / key).read_bytes()
    assert served.headers["Content-Type"] == "image/jpeg"


def test_a_post_revoked_through_one_box_is_refused_by_the_other_at_once(site, fake_wechat):
    a, b = site["urls"]["a"], site["urls"]["b"]
    box_a = site["boxes"]["a"]
    staff, openid = _login(b, fake_wechat)
    box_a.flask("staff", "grant", openid, "gz-demo", "admin")
    for _ in range(3):  # box b now keeps this signed-in staff member between requests
        assert requests.get(b + "/api/v1/moderation/tickets", headers=staff, timeout=10).status_code == 200
    box_a.flask("staff", "revoke", openid, "gz-demo", "admin")  # on box a, with its settings
    refused = requests.get(b + "/api/v1/moderation/tickets", headers=staff, timeout=10)
    assert refused.status_code == 403, refused.text
    assert requests.get(a + "/api/v1/moderation/tickets", headers=staff, timeout=10).status_code == 403


def test_the_login_limit_counts_both_boxes_together(site, fake_wechat):
    urls = [site["urls"]["a"], site["urls"]["b"]]
    statuses = []
    for i in range(LOGIN_LIMIT + 2):
        code = f"boxes-limit-{i}-{secrets.token_hex(4)}"
        fake_wechat.add_login_code(code, f"boxes-limit-openid-{i}")
        statuses.append(requests.post(urls[i % 2] + "/api/v1/auth/login", json={"code": code}, timeout=10,
                                      headers={"X-Forwarded-For": "192.0.2.131"}).status_code)
    assert statuses == [200] * LOGIN_LIMIT + [429, 429]   # alone, each box would have let 8 through


def test_both_boxes_drain_the_outbox_each_notification_once(site, fake_wechat):
    import sqlalchemy as sa

    from server import create_app
    from server.config import TestConfig
    from server.extensions import db
    from server.notifications.models import Notification
    from tests.fakes.outbox import fill

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = site["env"]["DATABASE_URL"]
    config.WECHAT_SUBSCRIBE_TEMPLATES = json.dumps({TEMPLATE: TEMPLATE_ID})
    app = create_app(config)
    fake_wechat.delay("cgi-bin/message/subscribe/send", 0.01, times=100_000)
    boxes = site["boxes"].values()
    try:
        # Both workers running and polling before anything is queued: neither gets a head start.
        for box in boxes:
            box.start_worker()
        time.sleep(8)
        assert all(box.worker.poll() is None for box in boxes)
        with app.app_context():
            fill(fake_wechat, 400, users=20)
            ids = set(db.session.execute(sa.select(Notification.id).where(Notification.template == TEMPLATE)).scalars())
            db.session.remove()
        assert len(ids) == 400
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with app.app_context():
                left = db.session.execute(sa.select(sa.func.count()).where(
                    Notification.id.in_(ids), Notification.state != "sent")).scalar_one()
                db.session.remove()
            if not left:
                break
            time.sleep(0.3)
        assert not left
    finally:
        fake_wechat.reset_faults()
        with app.app_context():
            db.engine.dispose()
    delivered = Counter(int(parse_qs(urlsplit(m["page"]).query)["n"][0]) for m in fake_wechat.sent_messages
                        if m["template_id"] == TEMPLATE_ID)
    mine = {i: delivered[i] for i in ids}
    assert all(count == 1 for count in mine.values()), Counter(mine.values())
    assert all(box.delivered_batches() > 0 for box in boxes), [box.delivered_batches() for box in boxes]
