"""The office console's dashboard and ticket desk at scale, on MariaDB.

    .venv/bin/python tests/bench/bench_console.py [--tickets 1000000] [--runs 7]

In a fresh database `gongzhi_bench_console_<random>` (migrations, the demo district,
`--tickets` tickets of history from datagen, the last twelve months' report cards frozen as
`flask reports monthly` freezes them), dropped at the end: each page requested through the
Flask test client with a console session (the district administrator, the street head), once
to warm up and then `--runs` times; the median and the slowest are printed. In-process: the
figures are the page's own work (queries, template), without HTTP.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import datagen  # noqa: E402
import sqlalchemy as sa  # noqa: E402

PAGES = [("dashboard", "/"), ("ticket desk", "/tickets"), ("overdue", "/tickets?overdue=1"),
         ("report cards", "/reports")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    name = f"gongzhi_bench_console_{secrets.token_hex(3)}"
    started = time.perf_counter()
    datagen.create_database(name)
    try:
        info = datagen.populate(name, args.tickets, log=lambda m: print(m, flush=True))
        print(f"{info['tickets']:,} tickets, {info['events']:,} events in {time.perf_counter() - started:.0f} s",
              flush=True)
        run(args, datagen.sql_url(name))
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            datagen.drop_database(name)


def run(args, url: str) -> None:
    from server import create_app
    from server.auth import console as console_auth
    from server.auth.models import User
    from server.config import TestConfig
    from server.extensions import db
    from server.stats import operations as stats_ops
    from server.stats.periods import month_of
    from server.timeutil import utcnow

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        month = month_of(utcnow())
        months = []
        for _ in range(12):
            month = month.previous()
            months.append(month)
        t = time.perf_counter()
        for m in reversed(months):
            stats_ops.monthly(str(m))
            db.session.commit()
        print(f"froze 12 monthly report cards in {time.perf_counter() - t:.1f} s", flush=True)
        tokens = {}
        for who in ("admin", "head"):
            user = db.session.execute(sa.select(User).where(User.openid == f"dev:{who}")).scalar_one()
            tokens[who] = console_auth.open_session(user)
        db.session.commit()
    print("\n| page | who | median ms | slowest ms | bytes |\n|---|---|---:|---:|---:|")
    for who, token in tokens.items():
        client = app.test_client()
        client.set_cookie("gz_console", token)
        for label, path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:300])
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert answer.status_code == 200
            print(f"| {label} | {who} | {statistics.median(times):,.0f} | {max(times):,.0f} | "
                  f"{len(answer.get_data()):,} |", flush=True)


if __name__ == "__main__":
    main()
