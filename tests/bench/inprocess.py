"""CPU time per request, in-process, for the benchmark's loads: a quick, quiet measure for
working on the request path (other work on the machine does not change process time much).

    .venv/bin/python tests/bench/inprocess.py gongzhi_bench_xxxx [--n 400] [--profile get]

Runs against a database `tests/bench/run.py --keep` left (or any with the demo district and
tickets), through Flask's test client: the same app, views and queries as under gunicorn,
without the HTTP server. Prints, per load, CPU ms per request and the statements it sent.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

import datagen  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--loads", default="get,list,nearby,create")
    parser.add_argument("--profile", default="")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--callers", default="", help="with --profile: who calls functions matching this")
    parser.add_argument("--callees", default="", help="with --profile: what functions matching this call")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request per load")
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--ceiling", action="store_true", help="also count the ceiling app's GET (tests/bench/ceiling_app.py)")
    parser.add_argument("--page", action="store_true",
                        help="also time a grid worker's first page in Python alone: its rows parsed, presented and "
                             "written as the answer, with no database or HTTP in the loop")
    parser.add_argument("--logs", action="store_true",
                        help="write the request log as deployed (JSON lines, to /dev/null) instead of turning it off")
    args = parser.parse_args()
    if args.ceiling:
        ceiling(args.database, args.n)
    os.environ.update(datagen.app_env(args.database, RATELIMIT_ENABLED="0", LOG_FORMAT="json"))

    import logging

    import sqlalchemy as sa

    from server import create_app
    from server.extensions import db

    if args.logs:
        sys.stderr = open(os.devnull, "w")  # the JSON handler create_app installs writes here
    else:
        logging.disable(logging.CRITICAL)
    app = create_app()
    statements = [0]
    shown: list[str] = []

    def count(conn, cursor_, statement, *rest):
        statements[0] += 1
        if args.sql:
            shown.append(" ".join(statement.split())[:400])

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
        ids = db.session.execute(sa.text("SELECT id, lat, lng FROM tickets ORDER BY RAND() LIMIT 2000")).all()
        open_places = db.session.execute(sa.text(
            "SELECT lat, lng FROM tickets WHERE status IN ('submitted','accepted','assigned','in_progress') "
            "ORDER BY RAND() LIMIT 200")).all()
    client = app.test_client()

    def token(name, consent=False):
        headers = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={"code": f"dev:{name}"}).json["token"]}
        if consent:
            version = client.get("/api/v1/me/consent", headers=headers).json["current_version"]
            client.post("/api/v1/me/consent", json={"policy_version": version}, headers=headers)
        return headers

    resident, grid, head = token("inprocess-resident", consent=True), token("grid"), token("head")
    with app.app_context():
        # Answered tickets and their reporters (run.py --keep leaves the raters' unused ones).
        answered = db.session.execute(sa.text(
            "SELECT t.id, u.openid FROM tickets t JOIN users u ON u.id = t.reporter_id "
            "WHERE t.status = 'resolved' AND u.openid LIKE 'dev:%' ORDER BY t.id")).all()
    raters: dict[str, dict] = {}

    def rate():
        ticket_id, openid = answered.pop()
        if openid not in raters:
            raters[openid] = token(openid.removeprefix("dev:"))
        return client.post(f"/api/v1/tickets/{ticket_id}/rate", headers=raters[openid],
                           json={"rating": "satisfied", "comment": ""})

    if args.page:
        page_in_python(app, grid, args.n * 5)
    rng = random.Random(1)
    loads = {
        "healthz": lambda: client.get("/healthz"),
        "me": lambda: client.get("/api/v1/me", headers=resident),
        "get": lambda: client.get(f"/api/v1/tickets/{rng.choice(ids).id}", headers=resident),
        "list": lambda: client.get("/api/v1/tickets?scope=unit&limit=20", headers=grid),
        "list_head": lambda: client.get("/api/v1/tickets?scope=unit&limit=20", headers=head),  # a street's units
        "nearby": lambda: client.get("/api/v1/tickets/nearby?lat=%f&lng=%f&radius=200" % tuple(rng.choice(open_places)),
                                     headers=resident),
        "rate": rate,
        "create": lambda: client.post("/api/v1/tickets", headers={**resident, "Idempotency-Key": uuid.uuid4().hex},
                                      json={"category": "streetlight", "description": "路灯不亮，晚上很黑",
                                            "lat": (p := rng.choice(ids)).lat, "lng": p.lng, "coord": "wgs84"}),
    }
    for name in args.loads.split(","):
        load = loads[name]
        for _ in range(20):
            res = load()
            assert res.status_code < 300, (name, res.status_code, res.data[:300])
        if args.sql:
            shown.clear()
            load()
            print(f"-- {name}: {len(shown)} statements")
            print("\n".join(shown))
        profiler = cProfile.Profile(time.process_time) if name in args.profile.split(",") else None
        statements[0] = 0
        spent = timed(load, args.n, profiler)
        per_request = statements[0] / args.n
        print(f"{name:8s} {spent:6.2f} ms CPU/request, {per_request:.1f} statements/request, "
              f"{python_calls(load):,.0f} Python calls/request", flush=True)
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats(args.sort).print_stats(args.lines)
            by_package(stats, args.n)
            if args.callers:
                stats.print_callers(args.callers)
            if args.callees:
                stats.print_callees(args.callees)


def page_in_python(app, headers: dict, n: int) -> None:
    """What a staff page costs in Python once its rows are fetched (the per-row part of the
    list): the rows' JSON parsed into views, presented for the viewer and the answer written."""
    from types import SimpleNamespace

    from server import jsonio
    from server.auth import sessions
    from server.extensions import db
    from server.tickets import presenters, queries

    with app.test_request_context("/api/v1/tickets", headers=headers):
        viewer = sessions.viewer()
        ids = [t.id for t in queries.list_tickets(viewer, scope="unit", limit=20)["items"]]
        rows = db.session.connection().execute(queries._VIEWS_BY_IDS, {"ids": ids}).fetchall()
        fetched = SimpleNamespace(fetchall=lambda: rows)

        def work():
            items = presenters.present_many(queries._views(fetched), viewer)
            return jsonio.dumps_bytes({"items": items, "next_cursor": None})

        size = len(work())
        spent = timed(work, n)
        print(f"page     {spent:6.3f} ms CPU a page of {len(rows)} in Python alone ({size:,} bytes), "
              f"{python_calls(work, 200):,.0f} Python calls", flush=True)
        db.session.rollback()


def by_package(stats: pstats.Stats, n: int) -> None:
    """Own time per request by where the code lives (the service, SQLAlchemy's ORM and
    Core, PyMySQL, Flask and Werkzeug, the rest): where a request's CPU goes, at a glance."""
    spent: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        where = filename.replace(os.sep, "/")
        if "/server/" in where and "site-packages" not in where:
            key = "server/" + where.split("/server/", 1)[1].split("/")[0]
        elif "site-packages/" in where:
            parts = where.split("site-packages/", 1)[1].split("/")
            key = "/".join(parts[:2]) if parts[0] == "sqlalchemy" else parts[0]
        else:
            key = "built-ins and the standard library"
        spent[key] = spent.get(key, 0.0) + own
    total = sum(spent.values())
    for key, own in sorted(spent.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {key:40s} {own / n * 1000:6.2f} ms/request (profiled)  {own / total:5.1%}")


def timed(load, n: int, profiler=None) -> float:
    """CPU ms per request over n requests, profiled when a profiler is given."""
    cpu = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(n):
        load()
    if profiler:
        profiler.disable()
    return (time.process_time() - cpu) / n * 1000


def python_calls(load, n: int = 50) -> float:
    """Python function calls per request: a count other work on the machine cannot change."""
    counter = cProfile.Profile()
    counter.enable()
    for _ in range(n):
        load()
    counter.disable()
    return pstats.Stats(counter).total_calls / n


def ceiling(database: str, n: int) -> None:
    """The ceiling's GET (one SELECT by primary key) through the same test client, for scale."""
    import ceiling_app

    os.environ["DATABASE_URL"] = datagen.app_env(database)["DATABASE_URL"]
    ceiling_app.prepare(os.environ["DATABASE_URL"], rows=1_000)
    client = ceiling_app.create_app().test_client()
    rng = random.Random(2)

    def load():
        return client.get(f"/items/{rng.randint(1, 1_000)}")

    for _ in range(20):
        load()
    spent = timed(load, n)
    print(f"ceiling  {spent:6.2f} ms CPU/request, 1.0 statements/request, {python_calls(load):,.0f} Python calls/request",
          flush=True)


if __name__ == "__main__":
    main()
