"""A ticket as one JSON object a row (what the service reads) against its columns one by one:
MariaDB's CPU (read from /proc, so run it on an otherwise idle database server) and this
process's CPU per statement, for one ticket by id and for a page of 21; and the signed-in
user's query as sent (posts sorted in Python) against the same with ORDER BY, which made
MariaDB build a temporary table for every request.

    .venv/bin/python tests/bench/row_formats.py gongzhi_bench_xxxx [--n 3000]

Against a database `tests/bench/run.py --keep` left; each form is measured twice, in turn.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

import datagen  # noqa: E402


def server_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    os.environ.update(datagen.app_env(args.database, RATELIMIT_ENABLED="0", LOG_FORMAT=""))

    import sqlalchemy as sa

    from server import create_app
    from server.auth import sessions
    from server.extensions import db
    from server.tickets import queries
    from server.timeutil import utcnow

    pid = int(subprocess.run(["pgrep", "-o", "mariadbd|mysqld"], capture_output=True, text=True).stdout.split()[0])
    t = queries._t
    columns = sa.select(*queries._VIEW_COLUMNS).select_from(queries._VIEW.get_final_froms()[0])
    forms = {
        "one ticket": {"json": queries._VIEW.where(t.c.id == sa.bindparam("id")), "columns": columns.where(t.c.id == sa.bindparam("id"))},
        "a page of 21": {
            "json": queries._VIEW.where(t.c.id < sa.bindparam("id")).order_by(t.c.id.desc()).limit(21),
            "columns": columns.where(t.c.id < sa.bindparam("id")).order_by(t.c.id.desc()).limit(21)},
    }
    app = create_app()
    with app.app_context():
        ids = db.session.execute(sa.text(f"SELECT id FROM tickets ORDER BY RAND() LIMIT {args.n}")).scalars().all()
        tokens = db.session.execute(sa.text("SELECT token_hash FROM auth_tokens")).scalars().all()
        conn = db.session.connection()
        now = utcnow()
        params = {"ticket": [{"id": i} for i in ids],
                  "viewer": [{"token_hash": tokens[k % len(tokens)], "now": now} for k in range(len(ids))]}
        forms["signed-in user"] = {"as sent": sessions._VIEWER,
                                   "ORDER BY": sessions._VIEWER.order_by(sessions._posts.c.id)}
        for what, pair in forms.items():
            runs = params["viewer" if what == "signed-in user" else "ticket"]
            if not runs:
                continue
            for label in list(pair) * 2:
                statement = pair[label]
                for values in runs[:100]:
                    conn.execute(statement, values).all()
                server, client = server_cpu(pid), time.process_time()
                for values in runs:
                    conn.execute(statement, values).all()
                server, client = server_cpu(pid) - server, time.process_time() - client
                print(f"{what:14s} {label:8s} MariaDB {server / len(runs) * 1000:.3f} ms, "
                      f"this process {client / len(runs) * 1000:.3f} ms a statement", flush=True)


if __name__ == "__main__":
    main()
