"""Benchmark: notifications per second delivered to the fake WeChat by one and by two
`flask worker` processes on MariaDB.

    .venv/bin/python tests/bench/bench_notifications.py [--count 6000] [--write FILE]

Creates a fresh database (dropped afterwards), queues COUNT one-time subscribe messages
for 100 users who granted them, and times the workers until every row is `sent`. The
fake WeChat answers at once, so the figure is the outbox's own cost (claim, quota, send
over HTTP on loopback, outcome commits).

Two figures per run:
- running: the workers are started and idle first; the clock runs from the commit that
  queues the rows to the last row recorded `sent` (what a deployment sees);
- cold: `flask worker --once` processes, the clock from their start to their exit
  (Python's start-up included, as this benchmark measured before).

--code DIR runs the workers from another checkout of the service (e.g. an older commit
unpacked with `git archive`), for a before/after comparison on the same machine; the
database schema must be the same. --no-keep-alive makes the fake close each connection
after one answer (HTTP/1.0).
"""
import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import pymysql  # noqa: E402

from tests.fakes.outbox import TEMPLATE, fill  # noqa: E402
from tests.fakes.wechat import FakeWeChat  # noqa: E402

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")


def _env(url, fake, args):
    return dict(os.environ, DATABASE_URL=url, APP_ENV="test", FLASK_APP="server.wsgi", PYTHONPATH=args.code,
                WECHAT_APP_ID=fake.appid, WECHAT_APP_SECRET=fake.secret, WECHAT_API_BASE=fake.base_url,
                WECHAT_SUBSCRIBE_TEMPLATES=json.dumps({TEMPLATE: "tmpl-accepted"}), SWEEP_INTERVAL_SECONDS="3600",
                NOTIFY_BATCH=str(args.batch), REDIS_URL=args.redis_url, LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"))


class Outbox:
    """The bench's own app, to queue rows and watch them."""

    def __init__(self, env):
        os.environ.update(env)
        from server import create_app

        self.app = create_app()

    def queue(self, fake, count):
        from server.extensions import db
        from server.notifications.models import Notification

        with self.app.app_context():
            db.session.execute(Notification.__table__.delete())
            db.session.commit()
            fill(fake, count, users=100)
            db.session.remove()
        return time.perf_counter()

    def unsent(self):
        import sqlalchemy as sa

        from server.extensions import db
        from server.notifications.models import Notification

        with self.app.app_context():
            left = db.session.execute(sa.select(sa.func.count()).where(Notification.state != "sent")).scalar_one()
            db.session.remove()
        return left


def _cold(env, fake, outbox, workers, count):
    outbox.queue(fake, count)
    start = time.perf_counter()
    procs = [subprocess.Popen([FLASK, "worker", "--once"], env=env, cwd=env["PYTHONPATH"]) for _ in range(workers)]
    for p in procs:
        p.wait()
    return time.perf_counter() - start


def _running(env, fake, outbox, workers, count):
    procs = [subprocess.Popen([FLASK, "worker"], env=env, cwd=env["PYTHONPATH"]) for _ in range(workers)]
    try:
        time.sleep(8)  # started, and polling an empty outbox
        target = fake.sent_count + count
        start = outbox.queue(fake, count)
        deadline = start + 600
        # Watched at the fake (a counter; the fake shares this process), then in the database.
        while fake.sent_count < target and time.perf_counter() < deadline:
            time.sleep(0.05)
        while outbox.unsent() and time.perf_counter() < deadline:
            time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="where workers note each accepted send; '' for none (each sent row committed alone)")
    parser.add_argument("--code", default=ROOT, help="the checkout whose workers run")
    parser.add_argument("--no-keep-alive", action="store_true")
    parser.add_argument("--modes", default="running,cold")
    parser.add_argument("--write", default="", help="a file to write the results to (Markdown rows)")
    args = parser.parse_args()
    name = f"gongzhi_bench_{secrets.token_hex(4)}"
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    fake = FakeWeChat(keep_alive=not args.no_keep_alive).start()
    rows = []
    try:
        env = _env(f"mysql+pymysql://root@127.0.0.1:3306/{name}", fake, args)
        subprocess.run([FLASK, "db", "upgrade", "heads"], env=env, cwd=args.code, check=True, capture_output=True)
        outbox = Outbox(env)
        for mode in args.modes.split(","):
            for workers in (1, 2):
                sent_before = len(fake.sent_messages)
                seconds = (_running if mode == "running" else _cold)(env, fake, outbox, workers, args.count)
                sent = len(fake.sent_messages) - sent_before
                assert sent == args.count and not outbox.unsent(), (sent, args.count)
                line = f"| {mode} | {workers} | {sent} | {seconds:.2f} | {sent / seconds:.0f} |"
                rows.append(line)
                print(line, flush=True)
    finally:
        fake.stop()
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    if args.write:
        with open(args.write, "a", encoding="utf-8") as fh:
            fh.write(f"<!-- {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                     f"MariaDB {conn.get_server_info()}, code {args.code}, batch {args.batch}, "
                     f"redis {args.redis_url or 'none'}, keep-alive {not args.no_keep_alive} -->\n")
            fh.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
