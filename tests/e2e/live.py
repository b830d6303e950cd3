"""A real gunicorn (deploy/gunicorn.conf.py) with production settings, for end-to-end tests."""
from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql
import pytest
import redis
import requests
from sqlalchemy.engine import make_url

BIN = os.path.dirname(sys.executable)
MYSQL_ADMIN = make_url(os.environ.get("MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/test"))


def healthy(base: str, seconds: float) -> bool:
    """Whether the service at `base` answers /healthz with 200 within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            time.sleep(0.2)
    return False


@contextmanager
def redis_scratch(url: str, prefix: str, also: tuple[str, ...] = ()) -> Iterator[tuple[redis.Redis, str]]:
    """A Redis client and a prefix `<prefix>-<random>` for this run's keys, which are deleted
    before and after (with the keys matching `also`); the test is skipped when no Redis answers."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    run = f"{prefix}-{secrets.token_hex(4)}"

    def clear():
        for pattern in (f"*{run}*", *also):
            for key in client.scan_iter(pattern):
                client.delete(key)

    clear()
    try:
        yield client, run
    finally:
        clear()


@contextmanager
def fresh_mysql_database(prefix: str) -> Iterator[str]:
    """A new empty database `<prefix>_<random>` on the MYSQL_ADMIN_URL server, dropped after;
    the test is skipped when no server answers there."""
    admin = MYSQL_ADMIN
    try:
        conn = pymysql.connect(host=admin.host, port=admin.port or 3306, user=admin.username,
                               password=admin.password or "", connect_timeout=3, autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB/MySQL not reachable at {admin.host}:{admin.port or 3306}: {exc}")
    name = f"{prefix}_{secrets.token_hex(4)}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


def free_port() -> int:
    """A free port below the ephemeral range. A port from that range (what binding port 0
    gives) can be handed to some client's outgoing connection (gunicorn's to the database, a
    load's to gunicorn) between this check and the server's bind, or while a server is down
    and must bind it again."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            low = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:          # a crowded machine: any port will have to do
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(fake_wechat, tmp, **extra) -> dict:
    """Production settings (no dev login, real secrets) pointed at the fake WeChat."""
    return dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="e2e-" + "s" * 40,
        FIELD_ENCRYPTION_KEYS="ZTJlLWZpZWxkLWtleS1mb3ItdGVzdHMtb25seS0xMjM=",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/e2e.sqlite3",
        DEV_LOGIN="0",
        REDIS_URL="",
        RATELIMIT_STORAGE_URI="memory://",  # per worker, knowingly (deploy/gunicorn.conf.py refuses it unsaid)
        WECHAT_APP_ID=fake_wechat.appid,
        WECHAT_APP_SECRET=fake_wechat.secret,
        WECHAT_API_BASE=fake_wechat.base_url,
        MEDIA_ROOT=str(tmp / "media"),
        FLASK_APP="server.wsgi",
        GUNICORN_WORKERS="2",
        **extra,
    )


def flask(env: dict, *args: str) -> str:
    return subprocess.run([os.path.join(BIN, "flask"), *args], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


class Gunicorn:
    """`with Gunicorn(env) as server:` serves on a free port until the block ends;
    `server.output` then holds everything it logged."""

    def __init__(self, env: dict):
        self.env = env
        self.base = ""
        self.output = ""

    def __enter__(self) -> "Gunicorn":
        port = free_port()
        # The log goes to a file: a pipe nobody reads fills up and stalls the server.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "server.wsgi:app"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        if healthy(self.base, 30):
            return self
        self.proc.kill()
        self.proc.wait(timeout=10)
        pytest.fail("gunicorn did not start: " + self._read()[-2000:])

    def _read(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.output = self._read()
        self.log.close()
