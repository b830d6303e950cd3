"""Benchmark: the monthly report (`flask reports monthly`) over 1,000,000 tickets on MariaDB.

Not a test: pytest collects test_*.py only, and this file does its work under __main__.
It creates a fresh database (gongzhi_bench_<hex>), migrates it, loads a district of 571
units and N tickets spread over the twelve Shanghai months 2025-11..2026-10 with
LOAD DATA LOCAL INFILE, times the snapshot operation, prints EXPLAIN for each query it
ran, and drops the database (unless --keep).

    .venv/bin/python tests/bench/bench_monthly_report.py [--tickets 1000000] [--keep]

The result is written up in docs/benchmarks/monthly-report.md.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import pymysql
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from server import create_app  # noqa: E402
from server.demo import CATEGORIES  # noqa: E402
from server.extensions import db  # noqa: E402
from server.stats.periods import Month  # noqa: E402

UTC = timezone.utc
FIRST, LAST = Month(2025, 11), Month(2026, 10)
STREETS, COMMUNITIES, GRIDS = 10, 8, 6
TICKET_COLUMNS = ("id", "category_id", "unit_id", "anonymous", "description", "lat", "lng", "address", "status",
                  "triage", "held", "priority", "respond_by", "resolve_by", "responded_at", "resolved_at",
                  "closed_at", "overdue", "redo_count", "return_reason", "rating", "supporters", "version",
                  "created_at", "updated_at")
NULL = "\\N"


def log(message: str) -> None:
    print(message, flush=True)


def stamp(value: datetime | None) -> str:
    return NULL if value is None else value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def build_units(conn) -> tuple[list[int], list[int], list[int]]:
    """district -> 10 streets -> 8 communities each -> 6 grids each.

    Returns the grids, the units with a head (all but grids) and the communities."""
    rows, next_id = [], 1
    now = datetime.now(UTC)

    def add(code, name, kind, parent, depth, parent_path):
        nonlocal next_id
        uid = next_id
        next_id += 1
        rows.append(dict(id=uid, code=code, name=name, kind=kind, parent_id=parent, depth=depth,
                         path=f"{parent_path}{uid}/", created_at=now, updated_at=now))
        return uid, f"{parent_path}{uid}/"

    grids, headed, communities = [], [], []
    district, dpath = add("bench", "基准区", "district", None, 0, "/")
    headed.append(district)
    for s in range(1, STREETS + 1):
        street, spath = add(f"bench-{s}", f"第{s}街道", "street", district, 1, dpath)
        headed.append(street)
        for c in range(1, COMMUNITIES + 1):
            community, cpath = add(f"bench-{s}-{c}", f"第{s}街道第{c}社区", "community", street, 2, spath)
            headed.append(community)
            communities.append(community)
            for g in range(1, GRIDS + 1):
                grid, _ = add(f"bench-{s}-{c}-{g}", f"第{s}-{c}-{g}网格", "grid", community, 3, cpath)
                grids.append(grid)
    units = db.metadata.tables["units"]
    conn.execute(units.insert(), rows)
    return grids, headed, communities


def build_people(conn, headed: list[int]) -> None:
    users, posts = db.metadata.tables["users"], db.metadata.tables["staff_posts"]
    now = datetime.now(UTC)
    conn.execute(users.insert(), [dict(id=i + 1, openid=f"bench:head{i}", nickname=f"负责人{i}", is_dev=True,
                                       created_at=now) for i in range(len(headed))])
    conn.execute(posts.insert(), [dict(user_id=i + 1, unit_id=unit, role="unit_head", created_at=now)
                                  for i, unit in enumerate(headed)])


def build_categories(conn) -> list[tuple[int, int, timedelta]]:
    table = db.metadata.tables["categories"]
    rows = []
    for i, (code, name, icon, kind, respond_h, resolve_d, resolve_h) in enumerate(CATEGORIES, start=1):
        rows.append(dict(id=i, code=code, name=name, icon=icon, description="", handler_kind=kind,
                         respond_hours=respond_h, resolve_days=resolve_d, resolve_hours=resolve_h, active=True,
                         sort_order=i))
    conn.execute(table.insert(), rows)
    return [(r["id"], r["respond_hours"], timedelta(hours=r["resolve_hours"]) if r["resolve_hours"]
             else timedelta(days=r["resolve_days"])) for r in rows]


def ticket_file(path: str, n: int, leaves: list[int], communities: list[int], categories, now: datetime,
                seed: int = 20261022) -> None:
    """N tickets in time order (ids follow created_at, as they do in production), with a
    lifecycle mix: resolved and rated, unrated, redone, returned, withdrawn, open, late."""
    rnd = random.Random(seed)
    start, end = FIRST.start(), LAST.next().start()
    span = (end - start).total_seconds()
    offsets = sorted(rnd.random() * span for _ in range(n))
    weights = [8, 3, 3, 2, 1, 14, 12, 16, 9, 10, 12, 8, 4, 3]
    picks = rnd.choices(range(len(categories)), weights=weights, k=n)
    reasons = ("out_of_scope", "duplicate", "needs_info", "invalid", "not_adopted")
    H = timedelta(hours=1)
    with open(path, "w", encoding="utf-8") as fh:
        for i, offset in enumerate(offsets, start=1):
            created = start + timedelta(seconds=offset)
            category_id, respond_h, resolve_window = categories[picks[i - 1]]
            unit = rnd.choice(leaves) if rnd.random() < 0.9 else rnd.choice(communities)
            respond_by, resolve_by = created + respond_h * H, created + resolve_window
            responded = resolved = closed = rating = reason = None
            redo, status = 0, "submitted"
            r = rnd.random()
            response = created + respond_h * H * rnd.uniform(0.02, 1.4)
            if r < 0.03:                                   # withdrawn, about half before respond_by
                status, closed = "withdrawn", created + respond_h * H * rnd.uniform(0.1, 2.0)
            elif r < 0.11:                                 # returned
                status, reason, responded = "returned", rnd.choice(reasons), response
                closed = responded
            elif r < 0.20:                                 # still open
                if response < now and rnd.random() < 0.7:
                    status, responded = rnd.choice(("accepted", "assigned", "in_progress")), response
            else:                                          # answered
                responded = response
                resolved = responded + resolve_window * rnd.uniform(0.05, 1.3)
                if rnd.random() < 0.05:                    # dissatisfied, redone
                    redo = 1
                    resolve_by = resolved + H + resolve_window
                    resolved = resolved + H + resolve_window * rnd.uniform(0.05, 1.2)
                if resolved > now:
                    status, resolved = "assigned", None
                elif rnd.random() < 0.62:
                    status, closed = "closed", resolved + timedelta(days=rnd.uniform(0.1, 6))
                    rating = rnd.choices(("satisfied", "basically_satisfied", "dissatisfied"), (70, 21, 9))[0]
                    if rating == "dissatisfied" and not redo:
                        rating = "basically_satisfied"     # a first dissatisfied would have reopened it
                else:
                    status = "closed" if resolved < now - timedelta(days=7) else "resolved"
                    closed = resolved + timedelta(days=7) if status == "closed" else None
            fh.write("\t".join((
                str(i), str(category_id), str(unit), "0", "bench", f"{30.5 + rnd.random() / 10:.6f}",
                f"{114.2 + rnd.random() / 10:.6f}", "", status, "0", "0", "normal", stamp(respond_by),
                stamp(resolve_by), stamp(responded), stamp(resolved), stamp(closed), "0", str(redo),
                reason or NULL, rating or NULL, "0", "1", stamp(created), stamp(created),
            )) + "\n")


def load_tickets(url, path: str) -> None:
    conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                           database=url.database, local_infile=True, autocommit=True, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE tickets CHARACTER SET utf8mb4 "
                        f"FIELDS TERMINATED BY '\\t' ({', '.join(TICKET_COLUMNS)})", (path,))
            cur.execute("ANALYZE TABLE tickets")
            cur.fetchall()
    finally:
        conn.close()


def capture_statements(engine, sink: list):
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        sink.append((statement, parameters, time.perf_counter() - conn.info.pop("t0")))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    return lambda: (event.remove(engine, "before_cursor_execute", before),
                    event.remove(engine, "after_cursor_execute", after))


def explain(engine, statements) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, parameters, _ in statements:
            cur.execute("EXPLAIN " + statement, parameters)
            names = [d[0] for d in cur.description]
            log("\n" + " ".join(statement.split())[:160] + " ...")
            for row in cur.fetchall():
                item = dict(zip(names, row))
                log("  " + " | ".join(f"{k}={item.get(k)}" for k in
                                      ("id", "select_type", "table", "type", "key", "rows", "Extra")))
    finally:
        raw.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--only-load", action="store_true", help="generate and load, time nothing (with --keep)")
    parser.add_argument("--admin-url", default=os.environ.get("MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/"))
    args = parser.parse_args()

    admin = make_url(args.admin_url)
    name = f"gongzhi_bench_{secrets.token_hex(4)}"
    server = pymysql.connect(host=admin.host, port=admin.port or 3306, user=admin.username,
                             password=admin.password or "", autocommit=True)
    with server.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
        version, pool = cur.fetchone()
    url = admin.set(database=name, query={"charset": "utf8mb4"})
    log(f"database {name} on MariaDB {version}, buffer pool {int(pool) // 2**20} MiB, {os.cpu_count()} CPUs")
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False), "TESTING": False})
        with app.app_context():
            from flask_migrate import upgrade

            from server.stats import operations, queries
            from server.stats.models import MONTHLY
            from server.stats.periods import parse_period

            upgrade(revision="heads")
            t0 = time.perf_counter()
            with db.engine.begin() as conn:
                leaves, headed, communities = build_units(conn)
                build_people(conn, headed)
                categories = build_categories(conn)
            now = datetime.now(UTC)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "tickets.tsv")
                ticket_file(path, args.tickets, leaves, communities, categories, now)
                t1 = time.perf_counter()
                log(f"generated {args.tickets:,} tickets in {t1 - t0:.1f} s")
                load_tickets(url, path)
            t2 = time.perf_counter()
            log(f"loaded them with LOAD DATA LOCAL INFILE in {t2 - t1:.1f} s (total {t2 - t0:.1f} s)")
            counts = db.session.execute(sa.text(
                "SELECT COUNT(*), SUM(created_at >= :s AND created_at < :e) FROM tickets"),
                {"s": Month(2026, 10).start().replace(tzinfo=None),
                 "e": Month(2026, 11).start().replace(tzinfo=None)}).one()
            log(f"tickets: {counts[0]:,} in all, {int(counts[1]):,} received in 2026-10 (Shanghai)")
            if args.only_load:
                return 0

            def timed(label, fn, runs):
                seconds = []
                for _ in range(runs):
                    start = time.perf_counter()
                    result = fn()
                    db.session.flush()
                    seconds.append(time.perf_counter() - start)
                    db.session.rollback()
                log(f"{label}: " + ", ".join(f"{s:.3f}" for s in seconds)
                    + f" s (median {statistics.median(seconds):.3f} s)")
                return result

            month = timed("monthly snapshot of 2026-10 (freeze 571 units + notify 91 heads), runs",
                          lambda: operations.monthly("2026-10", now=now)[2], args.runs)
            log(f"  notified {month} unit heads per run")
            timed("report card of the district for 2026-10 (live, with its rank)",
                  lambda: queries.unit_card(1, "2026-10", now=now), args.runs)
            timed("report card of a community for 2026-10 (live)",
                  lambda: queries.unit_card(communities[0], "2026-10", now=now), args.runs)
            timed("bulletin over 2026-09..2026-10, runs",
                  lambda: operations.bulletin("2026-09..2026-10", now=now), 3)
            timed("snapshot over all twelve months (every ticket in the period), runs",
                  lambda: operations.freeze(MONTHLY, parse_period("2025-11..2026-10"), "全年", now), 3)

            statements: list = []
            stop = capture_statements(db.engine, statements)
            start = time.perf_counter()
            snapshot, _, notified = operations.monthly("2026-10", now=now)
            db.session.commit()
            total = time.perf_counter() - start
            stop()
            log(f"committed run, as `flask reports monthly --month 2026-10` does: {total:.3f} s, "
                f"snapshot {snapshot.id}, {len(snapshot.rows)} units, {notified} notifications")
            selects = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]
            log("statements of that run, slowest first:")
            for statement, _, seconds in sorted(statements, key=lambda s: -s[2])[:6]:
                log(f"  {seconds:.3f} s  {' '.join(statement.split())[:110]}")
            explain(db.engine, [s for s in selects if "tickets" in s[0]])

            env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False), FLASK_APP="server.wsgi")
            flask = os.path.join(os.path.dirname(sys.executable), "flask")
            start = time.perf_counter()
            done = subprocess.run([flask, "reports", "monthly", "--month", "2026-09"], env=env,
                                  capture_output=True, text=True, check=True)
            log(f"\n$ flask reports monthly --month 2026-09\n{done.stdout.strip()}\n"
                f"wall clock, Python start-up included: {time.perf_counter() - start:.2f} s")
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            with server.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            log(f"dropped {name}")
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
