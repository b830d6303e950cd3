"""The HTTP benchmark: the service under gunicorn on MariaDB, driven by wrk, against the
ceiling of its stack. `make bench` runs it; it is not part of `make test`.

    .venv/bin/python tests/bench/run.py [--scales 10000,1000000] [--duration 12] [--keep]

For each scale it creates a fresh database `gongzhi_bench_<random>` (migrations, the demo
district), fills it in bulk (tests/bench/datagen.py), then

1. serves tests/bench/ceiling_app.py (bare Flask + Flask-SQLAlchemy: one SELECT by
   primary key, one INSERT) with deploy/gunicorn.conf.py and 2 workers, and measures it;
2. serves the service (server.wsgi:app) the same way, with dev login on (APP_ENV is not
   production) and rate limits off, logs in load users through the API, records their
   consent, and measures: GET one ticket; the staff list of 20 (keyset); nearby 20;
   create a ticket (routing, event, outbox, idempotency key); rate an answer;
3. EXPLAINs the staff list and nearby queries the service sent;

each load by wrk from a separate process, at 16 connections (2 wrk threads) for
--duration seconds after a --warmup run whose figures are dropped. It prints requests/s,
p50, p99 and the ratio to the ceiling, and writes docs/PERFORMANCE.md (the table, the
targets met or not, the machine, its load and the command). The databases are dropped
at the end unless --keep.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import datagen  # noqa: E402
import requests  # noqa: E402

from tests.e2e.live import free_port  # noqa: E402  (below the ephemeral range)

BIN = os.path.dirname(sys.executable)
REPLAY = os.path.join(HERE, "lua", "replay.lua")
FINDINGS = os.path.join(HERE, "findings.md")
BASELINE = os.path.join(HERE, "baseline.json")  # the same harness on the code before its changes
# The 1,000,000-ticket data set is about 2.2 GiB of tables and indexes (2 GiB held less than all of
# it: finding 33); the pool holds it with room for what the loads add.
BUFFER_POOL = 4 * 1024 ** 3
LOADS = ("get", "list", "nearby", "create", "rate", "cast")
READS = ("get", "list", "nearby", "get_recycled")
PAGES = ("list", "nearby")  # also set beside a bare page of 20 rows (not a target: the ceiling is one SELECT)
LABELS = {
    "ceiling_select": "ceiling: one SELECT by primary key",
    "ceiling_insert": "ceiling: one INSERT",
    "ceiling_page": "ceiling: a page of 20 rows (reference)",
    "get": "GET one ticket",
    "list": "staff list of 20 (keyset)",
    "nearby": "nearby 20",
    "create": "create a ticket",
    "rate": "rate an answer",
    "cast": "cast a secret ballot",
    "get_recycled": "GET one ticket, workers recycled every 5,000 requests (deploy default)",
}
VOTERS = 2000  # the roll of the cast load: a compound's residents
TARGETS = {"read_share": 0.70, "write_share": 0.50, "p99_ms": 50.0, "growth": 1.25}


def log(msg: str) -> None:
    print(msg, flush=True)


# --- the machine --------------------------------------------------------------------------


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


def wait_for_quiet(max_wait: float, threshold: float = 1.0) -> tuple[float, float, float]:
    """Wait (up to max_wait seconds) until the 1-minute load average is below threshold."""
    deadline = time.monotonic() + max_wait
    while True:
        load = loadavg()
        if load[0] < threshold or time.monotonic() >= deadline:
            return load
        log(f"  load average {load[0]:.2f} (others are working): waiting 30 s")
        time.sleep(30)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) // 1024 // 1024
    except (OSError, ValueError, IndexError):
        mem = 0
    conn = datagen.connect()
    cur = conn.cursor()
    cur.execute("SELECT VERSION()")
    version = cur.fetchone()[0]
    cur.execute("SHOW VARIABLES WHERE Variable_name IN ('innodb_buffer_pool_size', 'innodb_flush_log_at_trx_commit')")
    variables = dict(cur.fetchall())
    conn.close()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "kernel": platform.release(),
            "python": platform.python_version(), "mariadb": version, "wrk": wrk_version.strip(),
            "buffer_pool": int(variables.get("innodb_buffer_pool_size", 0)),
            "flush_at_commit": variables.get("innodb_flush_log_at_trx_commit")}


@contextmanager
def buffer_pool(enabled: bool):
    """A buffer pool that holds the 1,000,000-ticket data set (as a production server's
    would), for the run only: MariaDB's default of 128 MiB would measure the disk."""
    conn = datagen.connect()
    cur = conn.cursor()
    cur.execute("SELECT @@innodb_buffer_pool_size")
    before = int(cur.fetchone()[0])
    changed = enabled and before < BUFFER_POOL
    if changed:
        cur.execute(f"SET GLOBAL innodb_buffer_pool_size = {BUFFER_POOL}")
        log(f"innodb_buffer_pool_size {before >> 20} MiB -> {BUFFER_POOL >> 20} MiB for the run")
    try:
        yield
    finally:
        if changed:
            cur.execute(f"SET GLOBAL innodb_buffer_pool_size = {before}")
        conn.close()


# --- gunicorn -----------------------------------------------------------------------------


class Gunicorn:
    """deploy/gunicorn.conf.py with 2 workers, serving `app`; its output (its log lines, one
    a request) goes to a file.

    It listens on several free ports and every wrk run gets a port of its own (`fresh()`):
    sync workers close each connection, the server keeps the closed one in TIME_WAIT for
    60 s, and a client port that comes round again to such a socket waits 200 ms or more
    for a retransmit. At 2,000 connections a second the client ports come round within
    the minute, so sharing one port would put that rig artefact into every p99.

    Workers are not recycled (GUNICORN_MAX_REQUESTS=0) unless the env says otherwise:
    at these rates the deploy default (5,000 requests) restarts a worker every few
    seconds, and each restart imports the app again (about a second of CPU) while its
    requests wait; `recycling` measures that separately."""

    def __init__(self, app: str, env: dict, logfile: str, probe: str, ports: int = 12):
        self.app, self.env, self.logfile, self.probe = app, env, logfile, probe
        self.ports = [free_port() for _ in range(ports)]
        self.base = f"http://127.0.0.1:{self.ports[0]}"
        self._next = 1

    def fresh(self) -> str:
        """A port no earlier run has used (the first one serves set-up requests)."""
        port = self.ports[self._next % len(self.ports)]
        self._next += 1
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> "Gunicorn":
        binds = [a for port in self.ports for a in ("--bind", f"127.0.0.1:{port}")]
        env = {"GUNICORN_MAX_REQUESTS": "0", **self.env, "GUNICORN_WORKERS": "2", "PYTHONPATH": ROOT}
        self.out = open(self.logfile, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "gunicorn"), "-c", "deploy/gunicorn.conf.py", *binds, self.app],
                                     env=env, cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if requests.get(self.base + self.probe, timeout=2).status_code < 500:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn ({self.app}) did not start; see {self.logfile}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def log_problems(logfile: str) -> list[str]:
    """Tracebacks and error lines the server logged (an honest run has none)."""
    with open(logfile, encoding="utf-8", errors="replace") as fh:
        return [line.strip()[:300] for line in fh
                if "Traceback" in line or '"level": "ERROR"' in line or "[ERROR]" in line or "WORKER TIMEOUT" in line]


# --- CPU accounting ---------------------------------------------------------------------


def _proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (and of its reaped children)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _mariadb_pid() -> int | None:
    for name in ("mariadbd", "mysqld"):
        out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
        if out:
            return int(out[0])
    return None


def database_settled(max_wait: float = 120.0, idle: float = 0.15, quiet_for: int = 3) -> float:
    """Wait until MariaDB has digested a bulk load (its purge, page flushing and change-buffer
    merges use the same cores the next load is measured on): `quiet_for` seconds in a row
    under `idle` of a core, at most `max_wait` seconds. Returns the seconds waited."""
    pid = _mariadb_pid()
    if pid is None:
        return 0.0
    started, calm = time.monotonic(), 0
    last = _proc_cpu(pid)
    while calm < quiet_for and time.monotonic() - started < max_wait:
        time.sleep(1.0)
        now = _proc_cpu(pid)
        calm = calm + 1 if now - last < idle else 0
        last = now
    return time.monotonic() - started


_WAITS = ("Innodb_buffer_pool_reads", "Innodb_row_lock_waits", "Innodb_log_waits")


def _steal_ticks() -> int:
    """CPU time the hypervisor gave to others while this machine wanted it (/proc/stat)."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
        return int(fields[8])
    except (OSError, ValueError, IndexError):
        return 0


def waits_snapshot() -> dict:
    """What requests may wait for besides CPU, so far: pages MariaDB had to read from disk
    (its buffer pool did not hold them), row-lock and redo-log waits, and stolen CPU time."""
    conn = datagen.connect()
    try:
        cur = conn.cursor()
        cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s)" % ", ".join(["%s"] * len(_WAITS)), _WAITS)
        found = {name: int(value) for name, value in cur.fetchall()}
    finally:
        conn.close()
    return {**{name: found.get(name, 0) for name in _WAITS}, "steal": _steal_ticks(), "wall": time.monotonic()}


def waits_per_request(before: dict, after: dict, requests: int) -> dict:
    per = max(requests, 1)
    wall = max(after["wall"] - before["wall"], 1e-9)
    return {
        "disk_reads_per_req": (after["Innodb_buffer_pool_reads"] - before["Innodb_buffer_pool_reads"]) / per,
        "row_lock_waits": after["Innodb_row_lock_waits"] - before["Innodb_row_lock_waits"],
        "log_waits": after["Innodb_log_waits"] - before["Innodb_log_waits"],
        "steal_share": (after["steal"] - before["steal"]) / os.sysconf("SC_CLK_TCK") / (wall * (os.cpu_count() or 1)),
    }


def cpu_snapshot(master: int | None) -> dict:
    """CPU seconds used so far by the gunicorn master and its workers (live and reaped:
    max_requests recycles them) and by MariaDB (all of its clients, so on a shared
    machine it counts others' queries too)."""
    app = 0.0
    if master:
        app = _proc_cpu(master, children=True)
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        app += sum(_proc_cpu(int(p)) for p in out.split())
    db = _mariadb_pid()
    return {"app": app, "db": _proc_cpu(db) if db else 0.0, "wall": time.monotonic()}


# --- wrk ----------------------------------------------------------------------------------


def wrk(server: "Gunicorn", lines: list[str], mode: str, args, workdir: str, name: str, profile_pids=()) -> dict:
    """Warm up, then one measured run (each on a port of its own); returns its figures."""
    master = server.proc.pid
    path = os.path.join(workdir, f"{name}.tsv")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    result = {}
    for phase, seconds in (("warmup", args.warmup), ("run", args.duration)):
        if seconds <= 0:
            continue
        nonce = secrets.token_hex(4)
        cmd = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", REPLAY, server.fresh(), "--", path, mode, str(args.threads), nonce,
               # lines a warm-up used are not sent again (twice its count: threads go at their own pace)
               str(2 * result["warmup"]["requests"] + 64 if "warmup" in result else 0)]
        spies = []
        if phase == "run" and profile_pids:
            for pid in profile_pids:
                out = os.path.join(args.profile_dir, f"{name}-{pid}.svg")
                spies.append(subprocess.Popen(["py-spy", "record", "--nonblocking", "-p", str(pid), "-o", out,
                                               "-d", str(int(seconds))], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
        waits_before, before = waits_snapshot(), cpu_snapshot(master)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        after, waits_after = cpu_snapshot(master), waits_snapshot()
        for spy in spies:
            spy.wait()
        time.sleep(1)  # what wrk left in flight is served before the next run starts
        line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
        data = json.loads(line[len("BENCH_JSON "):])
        data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
        data["errors"] = data["status"] + data["connect"] + data["read"] + data["write"] + data["timeout"]
        data["ok"] = data["requests"] - data["status"]
        data["loadavg_after"] = loadavg()[0]
        data["app_cpu_ms"] = (after["app"] - before["app"]) / max(data["requests"], 1) * 1000
        data["db_cpu_ms"] = (after["db"] - before["db"]) / max(data["requests"], 1) * 1000
        data.update(waits_per_request(waits_before, waits_after, data["requests"]))
        result[phase] = data
    run = result["run"]
    run["sent_total"] = sum(r["requests"] for r in result.values())
    run["ok_total"] = sum(r["ok"] for r in result.values())
    return run


# --- the requests -------------------------------------------------------------------------


class Api:
    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def login(self, name: str, consent: bool = False) -> tuple[str, int]:
        res = self.http.post(self.base + "/api/v1/auth/login", json={"code": f"dev:{name}"}, timeout=10)
        res.raise_for_status()
        token = res.json()["token"]
        if consent:
            headers = {"Authorization": f"Bearer {token}"}
            version = self.http.get(self.base + "/api/v1/me/consent", headers=headers, timeout=10).json()["current_version"]
            self.http.post(self.base + "/api/v1/me/consent", json={"policy_version": version}, headers=headers,
                           timeout=10).raise_for_status()
        return token, res.json()["user"]["id"]


def cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([ticket_id]).encode()).decode().rstrip("=")


def gcj02(lat: float, lng: float) -> tuple[float, float]:
    from server.units.geo import wgs84_to_gcj02

    return wgs84_to_gcj02(lat, lng)


def request_lines(kind: str, info: dict, tokens: dict, rng: random.Random, count: int = 20_000) -> list[str]:
    """The requests a load replays (METHOD, path, token, body)."""
    residents, staff = tokens["residents"], tokens["staff"]
    district = info["district"]
    ids = [int(i) for i, held in zip(info["ids"], info["held"]) if not held]
    if kind == "get":
        return [f"GET\t/api/v1/tickets/{rng.choice(ids)}\t{rng.choice(residents)}\t" for _ in range(count)]
    if kind == "list":
        out = []
        for _ in range(count):
            query = "scope=unit&limit=20"
            r = rng.random()
            if r < 0.25:
                query += f"&cursor={cursor(rng.choice(ids))}"
            elif r < 0.5:
                query += "&status=" + rng.choice(["submitted", "accepted", "assigned", "in_progress", "resolved"])
            out.append(f"GET\t/api/v1/tickets?{query}\t{rng.choice(staff)}\t")
        return out
    if kind == "nearby":
        out = []
        for lat, lng in datagen.query_points(district, count, seed=rng.randrange(1 << 30)):
            glat, glng = gcj02(lat, lng)
            query = f"lat={glat:.6f}&lng={glng:.6f}&coord=gcj02&radius=200"
            if rng.random() < 0.5:
                query += "&category=" + rng.choices(list(datagen.CATEGORY_WEIGHTS), datagen.CATEGORY_WEIGHTS.values())[0]
            out.append(f"GET\t/api/v1/tickets/nearby?{query}\t{rng.choice(residents)}\t")
        return out
    if kind == "create":
        out = []
        codes = list(datagen.CATEGORY_WEIGHTS)
        for lat, lng in datagen.query_points(district, 2000, seed=rng.randrange(1 << 30)):
            glat, glng = gcj02(lat, lng)
            code = rng.choices(codes, datagen.CATEGORY_WEIGHTS.values())[0]
            text = rng.choice(datagen.TEXTS[code]).format(p=f"{rng.randint(1, 30)}栋楼下")
            body = json.dumps({"category": code, "description": text, "lat": round(glat, 6), "lng": round(glng, 6),
                               "coord": "gcj02", "address": f"{rng.randint(1, 30)}栋", "anonymous": rng.random() < 0.1},
                              ensure_ascii=False)
            out.append(f"POST\t/api/v1/tickets\t{rng.choice(residents)}\t{body}")
        return out
    raise ValueError(kind)


def rate_lines(ticket_ids, reporters, tokens_by_user: dict, rng: random.Random) -> list[str]:
    out = []
    for tid, uid in zip(ticket_ids, reporters):
        rating = rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], [80, 15, 5])[0]
        body = json.dumps({"rating": rating, "comment": datagen.RATING_COMMENTS[rating]}, ensure_ascii=False)
        out.append(f"POST\t/api/v1/tickets/{int(tid)}/rate\t{tokens_by_user[int(uid)]}\t{body}")
    rng.shuffle(out)
    return out


# --- EXPLAIN ------------------------------------------------------------------------------


def explain(database: str, info: dict) -> dict:
    """EXPLAIN (and ANALYZE, which runs it and counts rows) of the ticket queries the
    service sends for a staff list, a later page, a filtered list and nearby. In a child
    process: the app is built there, once."""
    lat, lng = gcj02(*datagen.query_points(info["district"], 1, seed=5)[0])
    mid = int(info["ids"][len(info["ids"]) // 2])
    proc = subprocess.run([sys.executable, __file__, "--explain", database, "--explain-at", f"{lat:.6f},{lng:.6f},{mid}"],
                          capture_output=True, text=True, cwd=ROOT)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("EXPLAIN_JSON ")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"explain failed: {proc.stderr[-3000:]}")
    return json.loads(line[len("EXPLAIN_JSON "):])


def _explain_child(database: str, at: str) -> None:
    import sqlalchemy as sa

    lat, lng, mid = at.split(",")
    os.environ["BENCH_DRIVER"] = "pymysql"  # the statements are the same; PyMySQL can show them with their values
    os.environ.update(datagen.app_env(database, RATELIMIT_ENABLED="0", LOG_FORMAT=""))
    from server import create_app
    from server.extensions import db

    app = create_app()
    captured: list = []

    def grab(conn, cursor_, statement, params, context, executemany):
        if "FROM tickets" in statement and statement.lstrip().upper().startswith("SELECT"):
            captured.append(cursor_.mogrify(statement, params))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", grab)
    client = app.test_client()

    def token(name):
        return {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={"code": f"dev:{name}"}).json["token"]}

    grid, resident = token("grid"), token("resident")
    probes = [
        ("staff list, first page", "/api/v1/tickets?scope=unit&limit=20", grid),
        ("staff list, a later page", f"/api/v1/tickets?scope=unit&limit=20&cursor={cursor(int(mid))}", grid),
        ("staff list, status=submitted", "/api/v1/tickets?scope=unit&limit=20&status=submitted", grid),
        ("nearby 20 (with category)", f"/api/v1/tickets/nearby?lat={lat}&lng={lng}&coord=gcj02&radius=200"
                                      "&category=sanitation", resident),
        ("nearby 20 (no category)", f"/api/v1/tickets/nearby?lat={lat}&lng={lng}&coord=gcj02&radius=200", resident),
    ]
    out = {}
    conn = datagen.connect(database)
    cur = conn.cursor()
    for label, url, headers in probes:
        captured.clear()
        res = client.get(url, headers=headers)
        assert res.status_code == 200, (url, res.status_code, res.data[:300])
        statement = captured[-1]
        entry = {"sql": statement}
        for verb in ("EXPLAIN", "ANALYZE"):
            cur.execute(f"{verb} {statement}")
            names = [d[0] for d in cur.description]
            entry[verb] = [names] + [["NULL" if v is None else str(v) for v in row] for row in cur.fetchall()]
        start = time.perf_counter()
        for _ in range(20):
            cur.execute(statement)
            cur.fetchall()
        entry["ms"] = (time.perf_counter() - start) / 20 * 1000
        out[label] = entry
    conn.close()
    print("EXPLAIN_JSON " + json.dumps(out, ensure_ascii=False))


# --- one scale ----------------------------------------------------------------------------


def data_size(database: str) -> tuple[int, int]:
    """The database's tables and indexes in bytes (InnoDB's estimate), and the buffer pool's size."""
    conn = datagen.connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables"
                    " WHERE table_schema = %s", (database,))
        size = int(cur.fetchone()[0])
        cur.execute("SELECT @@innodb_buffer_pool_size")
        return size, int(cur.fetchone()[0])
    finally:
        conn.close()


def run_scale(n: int, args, workdir: str) -> dict:
    name = f"gongzhi_bench_{secrets.token_hex(4)}"
    rng = random.Random(n)
    result = {"tickets": n, "database": name}
    log(f"\n== {n:,} tickets: database {name}")
    t = time.perf_counter()
    datagen.create_database(name)
    result["migrate_seconds"] = time.perf_counter() - t
    try:
        info = datagen.populate(name, n, log=log)
        result["data"] = {k: info[k] for k in ("tickets", "events", "media", "ratings", "open", "status")}
        result["generate_seconds"] = info["total_seconds"]
        log(f"  generated {info['tickets']:,} tickets, {info['events']:,} events, {info['media']:,} photos in "
            f"{info['total_seconds']:.1f} s ({info['open']:,} open); MariaDB settled in {database_settled():.0f} s")
        result["data_bytes"], result["buffer_pool"] = data_size(name)
        log("  " + _data_line(result).strip())
        url = datagen.sql_url(name)

        # 1. The ceiling.
        from ceiling_app import prepare

        prepare(url)
        # gunicorn's own log lines as the service's; its access line asked for (off by default with
        # LOG_FORMAT=json), the bare app's only line a request.
        ceiling_env = dict(os.environ, DATABASE_URL=url, LOG_FORMAT="json", GUNICORN_ACCESSLOG="-")
        with Gunicorn("tests.bench.ceiling_app:app", ceiling_env, os.path.join(workdir, f"ceiling-{n}.log"),
                      "/items/1", ports=24) as server:
            select = [f"GET\t/items/{rng.randint(1, 10_000)}\t\t" for _ in range(20_000)]
            insert = ["POST\t/items\t\t" + json.dumps({"owner_id": rng.randint(1, 999), "title": f"第{i}条",
                                                         "body": "楼下的路灯坏了三盏，晚上很黑，老人出门不安全",
                                                         "lat": 30.58, "lng": 114.3}, ensure_ascii=False)
                      for i in range(1000)]
            result["ceiling_select"] = wrk(server, select, "random", args, workdir, f"ceiling-select-{n}")
            report("ceiling_select", result)
            result["ceiling_insert"] = wrk(server, insert, "random", args, workdir, f"ceiling-insert-{n}")
            report("ceiling_insert", result)
            page = [f"GET\t/items?before={rng.randint(21, 10_000)}&limit=20\t\t" for _ in range(20_000)]
            result["ceiling_page"] = wrk(server, page, "random", args, workdir, f"ceiling-page-{n}")
            report("ceiling_page", result)
            lines = {"select": select, "insert": insert, "page": page}
            # 2. The service, each load followed by its ceiling again (the ceiling's workers wait idle meanwhile).
            measure_service(n, name, info, args, rng, workdir, result,
                            lambda kind, what: wrk(server, lines[what], "random", args, workdir,
                                                   f"ceiling-after-{kind}-{what}-{n}"))

        # 3. The plans.
        result["explain"] = explain(name, info)
        for label, entry in result["explain"].items():
            log(f"  {label}: {entry['ms']:.2f} ms; plan: " + "; ".join(
                f"{row[2]} {row[3]} key={row[5]} rows={row[8]}" for row in entry["EXPLAIN"][1:]))
    finally:
        if args.keep:
            log(f"  kept database {name}")
        else:
            datagen.drop_database(name)
    return result


def measure_service(n: int, name: str, info: dict, args, rng, workdir: str, result: dict, ceiling_again) -> None:
    """The service's loads; after each, `ceiling_again(kind, "select" | "insert" | "page")`
    measures the ceiling it is compared with."""

    def done(kind: str) -> None:
        result[kind]["ceiling"] = ceiling_again(kind, "select" if kind in READS else "insert")
        if kind in PAGES:
            result[kind]["ceiling_page"] = ceiling_again(kind, "page")
        report(kind, result)

    # One line a request, as deployed (deploy/gunicorn.conf.py with LOG_FORMAT=json): the app's
    # JSON line, gunicorn's access log off. The ceiling writes gunicorn's access line, its only one.
    env = datagen.app_env(name, RATELIMIT_ENABLED="0", LOG_FORMAT="json", GUNICORN_ACCESSLOG="")
    logfile = os.path.join(workdir, f"service-{n}.log")
    with Gunicorn("server.wsgi:app", env, logfile, "/healthz") as server:
        api = Api(server.base)
        tokens = {"residents": [api.login(f"bench-load-{k}", consent=True)[0] for k in range(16)],
                  "staff": [api.login(s)[0] for s in ("grid", "cadre", "head", "bench-grid_worker-5",
                                                      "bench-grid_worker-6", "bench-cadre-7")]}
        raters = {}
        for k in range(16):
            token, uid = api.login(f"bench-rater-{k}")
            raters[uid] = token
        pids = server.worker_pids() if args.profile else ()
        for kind in ("get", "list", "nearby", "create"):
            if kind not in args.loads:
                continue
            before = count_rows(name, "tickets")
            result[kind] = wrk(server, request_lines(kind, info, tokens, rng), "create" if kind == "create"
                               else "random", args, workdir, f"{kind}-{n}", pids if kind in args.profile else ())
            if kind == "create":
                made = settled_count(name, "tickets") - before
                result[kind]["rows"] = made
                result[kind]["check"] = f"{made:,} tickets created for {result[kind]['ok_total']:,} 2xx answers"
            done(kind)
        if "rate" in args.loads:
            # Answered tickets waiting for their reporters' ratings, enough for the run: a rating
            # costs about what a report does, so twice create's rate (or 500/s) covers it.
            expected = 2 * result.get("create", {}).get("rps", 250)
            count = int(min(60_000, max(3_000, expected * (args.duration + 3 * args.warmup) * 1.3 + 200)))
            conn = datagen.connect(name)
            district = datagen.District.load(conn.cursor())
            district.load_staff(conn.cursor())
            conn.close()
            t = time.perf_counter()
            extra = datagen.generate_tickets(name, district, count, reporters=list(raters), end=time.time(),
                                             start=time.time() - 3 * datagen.DAY, seed=n + 1, only_resolved=True,
                                             log=lambda m: None)
            log(f"  prepared {count:,} answered tickets for the raters in {time.perf_counter() - t:.1f} s; "
                f"MariaDB settled in {database_settled():.0f} s")
            before = count_rows(name, "ticket_ratings")
            result["rate"] = wrk(server, rate_lines(extra["ids"], extra["reporter"], raters, rng), "once",
                                 args, workdir, f"rate-{n}", pids if "rate" in args.profile else ())
            made = settled_count(name, "ticket_ratings") - before
            result["rate"]["rows"] = made
            result["rate"]["check"] = f"{made:,} ratings recorded for {result['rate']['ok_total']:,} 2xx answers"
            done("rate")
        if "cast" in args.loads:
            result["cast"] = cast_load(name, api, server, args, rng, workdir, pids if "cast" in args.profile else ())
            done("cast")
    if "get" in args.loads and args.recycling and n == min(args.scale_list):
        # The same GET load with the deploy config's own worker recycling.
        with Gunicorn("server.wsgi:app", dict(env, GUNICORN_MAX_REQUESTS=os.environ.get("GUNICORN_MAX_REQUESTS", "5000")),
                      logfile, "/healthz") as server:
            result["get_recycled"] = wrk(server, request_lines("get", info, tokens, rng), "random", args, workdir,
                                         f"get-recycled-{n}")
            done("get_recycled")
    result["log_problems"] = log_problems(logfile)
    if result["log_problems"]:
        log(f"  the service logged {len(result['log_problems'])} error lines, e.g. {result['log_problems'][0]}")


def cast_load(database: str, api: Api, server: "Gunicorn", args, rng, workdir: str, pids=()) -> dict:
    """An open vote of a compound's residents, `VOTERS` on its roll (confirmed entries); each
    request a ballot of one of them, changed now and then as voters may (the last counts)."""
    voters = [api.login(f"bench-voter-{k}") for k in range(VOTERS)]
    conn = datagen.connect(database)
    cur = conn.cursor()
    cur.execute("SELECT id FROM units WHERE code = 'gz-demo-hq-1-1'")
    compound = cur.fetchone()[0]
    cur.executemany("INSERT INTO roll_entries (unit_id, user_id, household, name, status, version, created_at) "
                    "VALUES (%s, %s, %s, '', 'confirmed', 1, UTC_TIMESTAMP())",
                    [(compound, uid, f"{k // 4 + 1}栋{k % 4 + 1}01") for k, (_, uid) in enumerate(voters)])
    conn.close()
    cadre = {"Authorization": "Bearer " + api.login("cadre")[0]}
    now = datetime.now(timezone.utc)
    made = api.http.post(server.base + "/api/v1/votes", headers=cadre, timeout=10, json={
        "unit_id": compound, "title": "小区停车位怎么划", "options": ["划在东侧", "划在西侧", "不划"],
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=3)).isoformat()})
    made.raise_for_status()
    vote = made.json()
    api.http.post(f"{server.base}/api/v1/votes/{vote['id']}/open", headers=cadre, json={}, timeout=10).raise_for_status()
    options = [o["id"] for o in vote["options"]]
    lines = [f"POST\t/api/v1/votes/{vote['id']}/cast\t{rng.choice(voters)[0]}\t" + json.dumps({"option_id": rng.choice(options)})
             for _ in range(20_000)]
    out = wrk(server, lines, "random", args, workdir, "cast", pids)
    voted = count_rows(database, "voters")
    ballots = count_rows(database, "ballots")
    out["check"] = (f"{voted:,} voters recorded, {ballots:,} ballots kept, of {VOTERS:,} on the roll, after "
                    f"{out['ok_total']:,} 2xx answers (one ballot a voter: the last counts)")
    return out


def count_rows(database: str, table: str) -> int:
    conn = datagen.connect(database)
    cur = conn.cursor()
    cur.execute(f"SELECT COUNT(*) FROM `{table}`")
    value = cur.fetchone()[0]
    conn.close()
    return value


def settled_count(database: str, table: str) -> int:
    """The row count once the server has finished what wrk left in flight when it stopped
    (requests already sent are still served after wrk closes its connections)."""
    last = count_rows(database, table)
    for _ in range(40):
        time.sleep(0.5)
        now = count_rows(database, table)
        if now == last:
            return now
        last = now
    return last


def ratio(result: dict, kind: str) -> float | None:
    """The load's requests/s over its ceiling's: the one measured right after it when there
    is one (the same machine, seconds apart), else the scale's first."""
    if kind not in result:
        return None
    base = result[kind].get("ceiling") or result.get("ceiling_select" if kind in READS else "ceiling_insert")
    return result[kind]["rps"] / base["rps"] if base else None


def report(kind: str, result: dict) -> None:
    r = result[kind]
    share = ratio(result, kind) if not kind.startswith("ceiling") else None
    log(f"  {LABELS[kind]:<38} {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms  p99 {r['p99_us'] / 1000:6.1f} ms"
        + f"  cpu/req: app {r['app_cpu_ms']:.2f} ms, db {r['db_cpu_ms']:.2f} ms"
        + (f"  {share:5.0%} of ceiling" if share is not None else "")
        + (f" ({r['ceiling']['rps']:.0f} req/s right after)" if r.get("ceiling") else "")
        + (f"; {r['rps'] / r['ceiling_page']['rps']:.0%} of a bare page of 20" if r.get("ceiling_page") else "")
        + (f"  {r['disk_reads_per_req']:.2f} disk reads/req" if r.get("disk_reads_per_req") else "")
        + (f", {r['row_lock_waits']} row-lock waits" if r.get("row_lock_waits") else "")
        + (f", {r['log_waits']} redo-log waits" if r.get("log_waits") else "")
        + (f", {r['steal_share']:.0%} of the CPU stolen" if r.get("steal_share", 0) >= 0.005 else "")
        + (f"  ({r['errors']} errors)" if r["errors"] else ""))


# --- the document -------------------------------------------------------------------------


def verdicts(results: list[dict]) -> list[tuple[str, bool | None, str]]:
    out = []
    for res in results:
        n = f"{res['tickets']:,}"
        for kind in LOADS:
            if kind not in res:
                continue
            share = ratio(res, kind)
            goal = TARGETS["read_share"] if kind in READS else TARGETS["write_share"]
            what = "of the SELECT ceiling" if kind in READS else "of the INSERT ceiling"
            out.append((f"{LABELS[kind]} at {n}: at least {goal:.0%} {what}", share >= goal, f"{share:.0%}"))
            p99 = res[kind]["p99_us"] / 1000
            out.append((f"{LABELS[kind]} at {n}: p99 under {TARGETS['p99_ms']:.0f} ms", p99 < TARGETS["p99_ms"],
                        f"{p99:.1f} ms"))
    by_n = {r["tickets"]: r for r in results}
    if len(by_n) >= 2:
        small, large = by_n[min(by_n)], by_n[max(by_n)]
        for kind in ("list", "nearby"):
            if kind in small and kind in large:
                growth = large[kind]["p50_us"] / small[kind]["p50_us"]
                out.append((f"{LABELS[kind]}: p50 at {large['tickets']:,} within {TARGETS['growth']}x of {small['tickets']:,}",
                            growth <= TARGETS["growth"], f"{growth:.2f}x (p50 {small[kind]['p50_us'] / 1000:.1f} -> "
                                                         f"{large[kind]['p50_us'] / 1000:.1f} ms)"))
    return out


def table(res: dict) -> str:
    rows = ["| load | requests/s | p50 ms | p90 ms | p99 ms | of ceiling | ceiling right after, req/s | "
            "of a bare page of 20 right after | errors | CPU ms/request: gunicorn | MariaDB | "
            "disk reads/request | CPU stolen |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in ("ceiling_select", "ceiling_insert", "ceiling_page") + LOADS + ("get_recycled",):
        if kind not in res:
            continue
        r = res[kind]
        share = ratio(res, kind) if not kind.startswith("ceiling") else None
        after = f"{r['ceiling']['rps']:,.0f}" if r.get("ceiling") else ""
        page = (f"{r['rps'] / r['ceiling_page']['rps']:.0%} ({r['ceiling_page']['rps']:,.0f} req/s)"
                if r.get("ceiling_page") else "")
        rows.append(f"| {LABELS[kind]} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | {r['p90_us'] / 1000:.1f} | "
                    f"{r['p99_us'] / 1000:.1f} | "
                    f"{'' if share is None else f'{share:.0%}'} | {after} | {page} | {r['errors']} | {r['app_cpu_ms']:.2f} | "
                    f"{r['db_cpu_ms']:.2f} | {_figure(r, 'disk_reads_per_req', '{:.2f}')} | "
                    f"{_figure(r, 'steal_share', '{:.0%}')} |")
    return "\n".join(rows)


def _data_line(res: dict) -> str:
    if "data_bytes" not in res:
        return ""
    return (f" Tables and indexes: {res['data_bytes'] >> 20:,} MiB, in a buffer pool of {res['buffer_pool'] >> 20:,} MiB"
            + ("." if res["data_bytes"] < res["buffer_pool"] else " (it does not fit: some pages are read from disk)."))


def _figure(r: dict, key: str, fmt: str) -> str:
    """A figure of the run, or nothing for one recorded before the harness measured it."""
    return fmt.format(r[key]) if key in r else ""


def before_after(results: list[dict]) -> str:
    """This run next to tests/bench/baseline.json (the code before the changes listed below)."""
    if not os.path.exists(BASELINE):
        return ""
    with open(BASELINE, encoding="utf-8") as fh:
        base = json.load(fh)
    rows = ["| tickets | load | before: req/s | p50 ms | p99 ms | CPU ms/req | now: req/s | p50 ms | p99 ms | CPU ms/req | req/s now/before |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for res in results:
        old = base["results"].get(str(res["tickets"]), {})
        for kind in ("ceiling_select",) + LOADS:
            if kind not in res or kind not in old:
                continue
            b, r = old[kind], res[kind]
            rows.append(f"| {res['tickets']:,} | {LABELS[kind]} | {b['rps']:,.0f} | {b['p50_us'] / 1000:,.1f} | "
                        f"{b['p99_us'] / 1000:,.1f} | {b['app_cpu_ms']:.2f} | {r['rps']:,.0f} | {r['p50_us'] / 1000:,.1f} | "
                        f"{r['p99_us'] / 1000:,.1f} | {r['app_cpu_ms']:.2f} | {r['rps'] / b['rps']:,.1f}x |")
    plans = []
    # The plans before changes 1 and 2 (tests/bench/findings.md), kept from the run that found them.
    old_plans = base.get("plans_before", {})
    for label in ("staff list, first page", "nearby 20 (no category)"):
        if label in old_plans:
            plans.append(f"{label}, before ({old_plans[label]['ms']:.0f} ms):\n\n```\n"
                         + "\n".join("\t".join(row) for row in old_plans[label]["EXPLAIN"]) + "\n```\n")
    plans_text = (f"\n\nThe plans at 1,000,000 tickets before changes 1 and 2 ({base['plans_what']}):\n\n" + "\n".join(plans)
                  if plans else "")
    return (f"## Before and after\n\nThe same harness, on the same machine, run on {base['what']} "
            f"({base['measured']}, load average {base['loadavg_start'][0]:.2f} at the start), "
            "next to this run. CPU is the gunicorn processes' per request.\n\n" + "\n".join(rows) + plans_text + "\n")


def write_doc(path: str, results: list[dict], mach: dict, args, loads: dict, command: str, started: float,
              finished: float | None = None) -> None:
    parts = [f"""# Performance

Generated by `{command}` ({time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, {((finished or time.time()) - started) / 60:.1f} minutes).
Do not edit by hand: `make bench` rewrites this file; the findings at the end come from
`tests/bench/findings.md`.

## Machine

- {mach['cores']} cores ({mach['cpu']}), {mach['memory_gib']} GiB, Linux {mach['kernel']}, Python {mach['python']},
  MariaDB {mach['mariadb']} on the same machine (InnoDB buffer pool {mach['buffer_pool'] >> 20} MiB during the run,
  `innodb_flush_log_at_trx_commit={mach['flush_at_commit']}`), {mach['wrk']}.
- Load average (1 min) before the run: {loads['start'][0]:.2f} ({', '.join(f'{x:.2f}' for x in loads['start'])});
  after it: {', '.join(f'{x:.2f}' for x in loads['end'])}. The machine is shared: figures taken while others work are lower
  and noisier.
- Everything runs on these cores at once: wrk ({args.threads} threads, {args.connections} connections), gunicorn
  (`deploy/gunicorn.conf.py`, 2 sync workers, one log line per request) and MariaDB.

## How it is measured

Each load runs {args.warmup} s to warm up (dropped), then {args.duration} s measured, at {args.connections}
connections, from wrk in its own process. The service runs with its deploy config (`deploy/gunicorn.conf.py`,
`GUNICORN_WORKERS=2`) and, as deployed, Redis (`REDIS_URL`: the workers keep signed-in users and ask Redis
whether they changed, `server/auth/viewer_cache.py`; Redis's own CPU is not in the CPU columns), plus
`DEV_LOGIN=1` (APP_ENV is not production), `RATELIMIT_ENABLED=0` and JSON logs (as deployed, the app's own
line per request with gunicorn's access log off, `GUNICORN_ACCESSLOG=`; the ceiling,
which has no log of its own, keeps gunicorn's access line);
load users log in through `POST /api/v1/auth/login` and agree to the privacy policy through the API first.
Three settings of the rig, the first two applied to the ceiling too:

- `GUNICORN_MAX_REQUESTS=0`: at these rates the deploy default (recycle a worker every 5,000 requests)
  restarts a worker every few seconds, and each restart imports the app again (about a second of CPU)
  while requests queue. The last row of the first table measures GET with the default, for comparison.
- Every wrk run gets a gunicorn port of its own: sync workers close each connection, the server side keeps
  it in TIME_WAIT for a minute, and a client port that comes round to such a socket again waits 200 ms or
  more; sharing one port put that artefact into every p99.
- After each bulk load (the data set; the answered tickets the raters need, loaded right before rate) the
  rig waits until MariaDB has been idle for three seconds (at most two minutes): its purge, page flushing
  and change-buffer merges otherwise run on the cores the next load is measured on.

The ceiling is measured first (its rows in each table), then again right after every load of the
service, with the same warm-up and duration: each load's share is of the ceiling measured right after it
(the SELECT for reads, the INSERT for writes; both servers stay up, the idle one's workers asleep). On a
shared machine the speed of the same code drifts by a quarter within minutes; two runs seconds apart see
the same machine.

CPU ms/request is read from `/proc` (gunicorn master and workers; MariaDB as a whole, so others' queries on
a shared machine count there too), which says more than requests/s when the machine is not idle.
Disk reads/request are the pages MariaDB had to read from disk during the load (`Innodb_buffer_pool_reads`:
its buffer pool did not hold them), each a wait of its own on a shared disk; CPU stolen is the share of
the machine's CPU time that its hypervisor gave to others during the load (`/proc/stat`), which stalls
every process at once.

- **GET one ticket**: a resident reads a random ticket (of all of them), `GET /api/v1/tickets/<id>`.
- **staff list of 20 (keyset)**: grid workers, cadres and a street head read `GET /api/v1/tickets?scope=unit&limit=20`:
  half the first page, a quarter a later page (a cursor at a random ticket), a quarter filtered by one status.
- **nearby 20**: a resident about to report looks around a place where reports are,
  `GET /api/v1/tickets/nearby?lat=..&lng=..&coord=gcj02&radius=200` (half of them with `&category=`), as the mini-program does.
- **create a ticket**: `POST /api/v1/tickets` with a new `Idempotency-Key` per request (generated in the wrk
  script), routed by place, with its event, its outbox rows and its key.
- **rate an answer**: the reporter rates a freshly answered ticket, `POST /api/v1/tickets/<id>/rate`
  (80% satisfied, 15% basically, 5% dissatisfied, which reopens it); every ticket is rated once.
- **ceiling**: `tests/bench/ceiling_app.py`, bare Flask + Flask-SQLAlchemy with the service's engine settings
  under the same gunicorn config: one SELECT by primary key, or one INSERT and its commit. Reads are compared
  with the SELECT, create and rate with the INSERT. For reference only, beside the staff list and nearby
  (each a page of 20 tickets), the same app answering a page of 20 rows (`GET /items?before=<id>&limit=20`,
  by the primary key, newest first, as ORM objects): what the bare stack does with twenty rows.

The data: {datagen.REPORTS_PER_DAY} reports a day in the demo district, so 10,000 tickets are its last 20 days
and 1,000,000 its last 5.5 years (see `tests/bench/datagen.py` for the model); generation times below.
"""]
    for res in results:
        d = res.get("data", {})
        parts.append(f"""## {res['tickets']:,} tickets

{d.get('tickets', 0):,} tickets ({d.get('open', 0):,} open), {d.get('events', 0):,} events, {d.get('media', 0):,} photos,
{d.get('ratings', 0):,} ratings; generated in {res.get('generate_seconds', 0):.0f} s (plus {res.get('migrate_seconds', 0):.0f} s
to migrate and seed).{_data_line(res)}

{table(res)}
""")
        checks = [res[k]["check"] for k in ("create", "rate", "cast") if k in res and "check" in res[k]]
        if checks:
            parts.append("Checked after the run: " + "; ".join(checks) + ".\n")
        if res.get("log_problems"):
            parts.append(f"The service logged {len(res['log_problems'])} error lines during the run.\n")
    parts.append("## Targets\n\n| target | met | measured |\n|---|---|---|\n" + "\n".join(
        f"| {what} | {'yes' if ok else 'no'} | {value} |" for what, ok, value in verdicts(results)) + "\n")
    big = max(results, key=lambda r: r["tickets"])
    if big.get("explain"):
        parts.append(f"## Query plans at {big['tickets']:,} tickets\n\nThe statements the service sent "
                     "(captured from the app), EXPLAINed, then ANALYZEd (run, with real row counts: `r_rows`). "
                     "Times are the statement alone, on an idle connection.\n")
        for label, entry in big["explain"].items():
            parts.append(f"### {label} ({entry['ms']:.2f} ms)\n\n```sql\n{entry['sql']}\n```\n\n```\n"
                         + "\n".join("\t".join(row) for row in entry["EXPLAIN"]) + "\n```\n\n```\n"
                         + "\n".join("\t".join(row) for row in entry["ANALYZE"]) + "\n```\n")
    parts.append(before_after(results))
    if os.path.exists(FINDINGS):
        with open(FINDINGS, encoding="utf-8") as fh:
            parts.append(fh.read())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))


def install_wrk() -> None:
    """wrk comes from Debian's packages; install it when we may (root with apt-get)."""
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")


def install_mysqlclient() -> None:
    """The C driver (mysqlclient) for --driver mysqldb: built against Debian's libmariadb-dev."""
    try:
        import MySQLdb  # noqa: F401
        return
    except ImportError:
        pass
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "libmariadb-dev", "pkg-config"], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "mysqlclient"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="10000,1000000", help="ticket counts, comma separated")
    parser.add_argument("--duration", type=int, default=12, help="seconds measured per load")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per load (not measured)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--loads", default=",".join(LOADS))
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--no-recycling", dest="recycling", action="store_false",
                        help="skip the GET run with the deploy default worker recycling")
    parser.add_argument("--max-wait", type=float, default=300,
                        help="seconds to wait, at most, for a quiet machine (1-minute load average below 1)")
    parser.add_argument("--no-buffer-pool", action="store_true", help="leave innodb_buffer_pool_size alone")
    parser.add_argument("--profile", default="", help="loads to profile with py-spy (flame graphs in --profile-dir)")
    parser.add_argument("--profile-dir", default=os.path.join(tempfile.gettempdir(), "gongzhi-bench-profiles"))
    parser.add_argument("--write", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"),
                        help="where to write the report ('' for nowhere)")
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--driver", choices=("pymysql", "mysqldb"), default="pymysql",
                        help="the MySQL driver of the service and the ceiling (mysqldb: the C driver mysqlclient)")
    parser.add_argument("--from-json", help="write the document from the figures of an earlier run (--json), measuring nothing")
    parser.add_argument("--explain", help=argparse.SUPPRESS)
    parser.add_argument("--explain-at", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.explain:
        return _explain_child(args.explain, args.explain_at)
    args.loads = [x for x in args.loads.split(",") if x]
    args.scale_list = [int(x) for x in args.scales.split(",") if x]
    args.profile = [x for x in args.profile.split(",") if x]
    if args.profile:
        os.makedirs(args.profile_dir, exist_ok=True)
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as fh:
            raw = json.load(fh)
        write_doc(args.write, raw["results"], raw["machine"], args, raw["loads"], raw["command"], raw["started"],
                  raw["finished"])
        log(f"wrote {os.path.relpath(args.write, ROOT)} from {args.from_json}")
        return None
    if shutil.which("wrk") is None:
        install_wrk()
    os.environ["BENCH_DRIVER"] = args.driver  # datagen.sql_url, in this process and its children
    if args.driver == "mysqldb":
        install_mysqlclient()
    started = time.time()
    command = "make bench" if os.environ.get("MAKELEVEL") else ".venv/bin/python tests/bench/run.py " + " ".join(sys.argv[1:])
    loads = {"start": wait_for_quiet(args.max_wait)}
    log(f"load average {loads['start'][0]:.2f}")
    results = []
    workdir = tempfile.mkdtemp(prefix="gongzhi-bench-")
    with buffer_pool(not args.no_buffer_pool):
        mach = machine()
        for n in args.scale_list:
            results.append(run_scale(n, args, workdir))
    loads["end"] = loadavg()
    log("\n== targets")
    for what, ok, value in verdicts(results):
        log(f"  [{'met' if ok else 'NOT met'}] {what}: {value}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": mach, "loads": loads, "results": results, "command": command.strip(),
                       "started": started, "finished": time.time()}, fh, ensure_ascii=False, indent=1, default=str)
    if args.write:
        write_doc(args.write, results, mach, args, loads, command.strip(), started)
        log(f"\nwrote {os.path.relpath(args.write, ROOT)}; server logs in {workdir}")


if __name__ == "__main__":
    main()
