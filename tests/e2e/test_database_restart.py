"""Faults: the database restarts under load and the service recovers without restarting gunicorn.

A private MariaDB (tests/e2e/private_mariadb.py: its own data directory and port, never the
shared server) serves the real gunicorn (deploy/gunicorn.conf.py, 2 workers). Client threads
file reports with an Idempotency-Key, retrying the same key and body on 503/409/429 or a
dropped connection as the mini-program does, while others read ticket lists. Meanwhile the
database is SIGKILLed and started again on the same data directory (a crash), then shut down
cleanly and started again. Checked:

* during an outage every answer is a 503 (or 409/429) in the error envelope: never a 500,
  never a hang past the client's timeout, never a dropped connection;
* once the database is back, requests succeed again within seconds, from the same gunicorn
  master and the same two workers (none restarted, none killed by the worker timeout), and
  /readyz is ready again;
* requests lost = 0: every create the client saw succeed is in the database, and every
  logical create (one key) ends with exactly one ticket.

`pytest -s` prints the figures in one line (FAULTS ...).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests

from tests.e2e.live import Gunicorn, flask, production_env
from tests.e2e.private_mariadb import PrivateMariaDB, binaries

pytestmark = [
    pytest.mark.e2e,
    # It brings its own database server, so it runs once per `make test`: on the SQLite pass.
    pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("mysql"),
                       reason="brings its own MariaDB; run once, on the SQLite pass"),
    pytest.mark.skipif(None in binaries(), reason="mariadbd / mariadb-install-db not installed"),
]

CLIENT_TIMEOUT = 20       # seconds; below gunicorn's 30 s worker timeout
RETRY_PAUSE = 0.25        # between two tries of the same create
DOWN_FOR = 2.5            # seconds the database stays down per fault
RECOVERY_LIMIT = 15       # first success after the database is back, at most this many seconds later
RETRYABLE = {409, 429, 503}
PLACE = {"lat": 30.57, "lng": 114.27, "coord": "wgs84"}   # 花桥社区 (gz-demo-hq-1): the grid worker's unit


@dataclass
class Answer:
    kind: str
    t0: float
    t1: float
    status: int | None           # None: no HTTP answer (timeout, dropped connection)
    error: str = ""
    envelope: bool = True        # a non-2xx answer carries {"code", "status", "message", "errors"}
    message: str = ""


@dataclass
class Create:
    key: str
    user_id: int
    body: dict
    attempts: int = 0
    status: int | None = None    # the final 2xx
    ticket_id: int | None = None


@dataclass
class Load:
    base: str
    answers: list[Answer] = field(default_factory=list)
    creates: list[Create] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    deadline: float = 0.0        # a create still retrying gives up past this (it is then reported lost)
    crashed: list[str] = field(default_factory=list)

    def call(self, http: requests.Session, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        t0 = time.monotonic()
        try:
            res = http.request(method, self.base + path, timeout=CLIENT_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            answer, res = Answer(kind, t0, time.monotonic(), None, error=type(exc).__name__), None
        else:
            answer = Answer(kind, t0, time.monotonic(), res.status_code)
            if res.status_code >= 300:
                try:
                    body = res.json()
                    answer.envelope = set(body) == {"code", "status", "message", "errors"} and \
                        body["code"] == res.status_code
                    answer.message = str(body.get("message"))
                except ValueError:
                    answer.envelope = False
        with self.lock:
            self.answers.append(answer)
        return res


def _login(base: str, name: str, consent: bool) -> tuple[dict, int]:
    res = requests.post(base + "/api/v1/auth/login", json={"code": f"dev:{name}"}, timeout=CLIENT_TIMEOUT)
    assert res.status_code == 200, res.text
    headers = {"Authorization": f"Bearer {res.json()['token']}"}
    if consent:
        version = requests.get(base + "/api/v1/me/consent", headers=headers, timeout=CLIENT_TIMEOUT).json()
        agreed = requests.post(base + "/api/v1/me/consent", json={"policy_version": version["current_version"]},
                               headers=headers, timeout=CLIENT_TIMEOUT)
        assert agreed.status_code == 201, agreed.text
    return headers, res.json()["user"]["id"]


def _resident(load: Load, headers: dict, user_id: int) -> None:
    """Reports one problem after another; each report retried with its key until it lands."""
    http = requests.Session()
    http.headers.update(headers)
    mine: list[int] = []
    n = 0
    while not load.stop.is_set():
        n += 1
        key = uuid.uuid4().hex
        create = Create(key, user_id, {"category": "streetlight", "description": f"路灯不亮了 #{n} {key}",
                                       **PLACE})
        with load.lock:
            load.creates.append(create)
        while time.monotonic() < load.deadline:
            create.attempts += 1
            res = load.call(http, "create", "POST", "/api/v1/tickets", json=create.body,
                            headers={"Idempotency-Key": key})
            if res is not None and res.status_code in (200, 201):
                create.status, create.ticket_id = res.status_code, res.json()["id"]
                mine.append(create.ticket_id)
                break
            # Anything else, a wrong answer included (the checks report it), is tried again
            # with the same key and body, as a resident taps "submit" again.
            time.sleep(RETRY_PAUSE)
        else:
            return
        load.call(http, "get", "GET", f"/api/v1/tickets/{mine[-1]}")
        load.call(http, "mine", "GET", "/api/v1/tickets", params={"limit": 20})


def _staff(load: Load, headers: dict) -> None:
    http = requests.Session()
    http.headers.update(headers)
    while not load.stop.is_set():
        res = load.call(http, "staff_list", "GET", "/api/v1/tickets", params={"scope": "unit", "limit": 20})
        if res is not None and res.status_code == 200 and res.json()["items"]:
            load.call(http, "get", "GET", f"/api/v1/tickets/{res.json()['items'][0]['id']}")
        time.sleep(0.02)


def _guarded(load: Load, target, *args):
    def run():
        try:
            target(load, *args)
        except Exception as exc:  # noqa: BLE001  (reported by the test, not lost in a thread)
            load.crashed.append(f"{target.__name__}: {exc!r}")
    return threading.Thread(target=run, daemon=True)


def _children(pid: int) -> set[int]:
    """The gunicorn master's worker processes (from /proc)."""
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.add(int(entry))
    return kids


def _wait(predicate, timeout: float, what: str, load: Load | None = None, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    seen = ""
    if load is not None:
        with load.lock:
            statuses = Counter(a.status for a in load.answers)
            recent = load.answers[-5:]
        seen = f"; answers so far {dict(statuses)}, the last {recent}, threads failed {load.crashed}"
    pytest.fail(f"timed out after {timeout} s waiting for {what}{seen}")


def _readyz(base: str) -> int | None:
    try:
        return requests.get(base + "/readyz", timeout=CLIENT_TIMEOUT).status_code
    except requests.RequestException:
        return None


def _first_success_after(load: Load, t: float) -> Answer | None:
    with load.lock:
        done = [a for a in load.answers if a.t0 >= t and a.status in (200, 201)]
    return min(done, key=lambda a: a.t1) if done else None


@pytest.fixture(scope="module")
def private_db(fake_wechat, tmp_path_factory):
    """The private MariaDB, migrated and seeded, and the service's environment for it."""
    tmp = tmp_path_factory.mktemp("db-restart")
    with PrivateMariaDB(keep_log=str(tmp / "mariadb-error.log")) as mariadb:
        env = production_env(fake_wechat, tmp)
        # Dev login for the demo staff (production refuses it), report limits out of the way,
        # and no periodic worker recycling: the worker pids must tell a restart apart.
        env.update(DATABASE_URL=mariadb.url, APP_ENV="e2e", DEV_LOGIN="1", RATELIMIT_REPORT="100000/hour",
                   GUNICORN_WORKERS="2", GUNICORN_MAX_REQUESTS="0")
        flask(env, "db", "upgrade", "heads")
        flask(env, "seed-demo")
        yield mariadb, env, tmp


@pytest.fixture
def stack(private_db):
    mariadb, env, _ = private_db
    with Gunicorn(env) as server:
        yield server, mariadb
    lines = server.output.splitlines()
    problems = [i for i, line in enumerate(lines)
                if ("Traceback" in line and not _pool_reset(lines, i)) or '" 500 ' in line
                or "unhandled error" in line or "WORKER TIMEOUT" in line]
    assert not problems, "\n".join(lines[max(0, problems[0] - 5):problems[0] + 60])


def _pool_reset(lines: list[str], i: int) -> bool:
    """A traceback SQLAlchemy's pool logs when a connection given back after a request cannot
    be rolled back or closed ("Exception during reset or similar"): the database died just
    then. The request had its answer already and the connection is thrown away: expected in
    a crash, not an error of the service (a failed request goes through server.errors)."""
    for line in reversed(lines[max(0, i - 100):i]):
        if line[:4].isdigit():          # the log record the traceback belongs to
            return " sqlalchemy.pool" in line
    return False


# A connection lost between the pool's pre-ping and the first query of a request: the
# rate limiter's user lookup (server/ops/ratelimit.py) meets the error first and must leave
# the session usable, so the view answers 503 or, on a database that is back, succeeds.
# The database kills the connection (KILL <id>) just as that lookup is sent. Run in a
# process of its own: a second app in this one would take over the shared limiter.
_LOST_CONNECTION = textwrap.dedent("""\
    import json, sys
    import pymysql
    from sqlalchemy import event
    from server import create_app
    from server.config import TestConfig
    from server.extensions import db

    url, port, media = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.MEDIA_ROOT = media
    config.RATELIMIT_ENABLED = True         # the limiter's lookup is the one under test
    app = create_app(config)
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"code": "dev:lost-connection"}).json["token"]
    headers = {"Authorization": "Bearer " + token}
    version = client.get("/api/v1/me/consent", headers=headers).json["current_version"]
    assert client.post("/api/v1/me/consent", json={"policy_version": version}, headers=headers).status_code == 201
    admin = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True)
    armed = {"kills": 0}
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def kill_once(conn, cursor, statement, *args):
        if not armed["kills"] and "auth_tokens" in statement:
            armed["kills"] += 1
            with admin.cursor() as cur:
                cur.execute("KILL %d" % conn.connection.dbapi_connection.thread_id())

    res = client.post("/api/v1/tickets", headers={**headers, "Idempotency-Key": "lost-connection-0001"},
                      json={"category": "streetlight", "description": "路灯不亮了", "lat": 30.57, "lng": 114.27})
    print(json.dumps({"status": res.status_code, "message": (res.json or {}).get("message"), "kills": armed["kills"]}))
""")


def test_a_connection_lost_under_the_rate_limiter_is_not_a_500(private_db):
    mariadb, env, tmp = private_db
    if mariadb.proc.poll() is not None:     # left down by the fault test, had it run first and failed
        mariadb.start()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", _LOST_CONNECTION, mariadb.url, str(mariadb.port), str(tmp / "media")],
                          capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kills"] == 1, result
    assert result["status"] == 201, (result, done.stderr[-3000:])   # the database is up: the view just succeeds


def test_database_restarts_under_load_lose_no_request(stack):
    server, mariadb = stack
    base, master = server.base, server.proc.pid
    workers = _wait(lambda: (lambda kids: kids if len(kids) == 2 else None)(_children(master)), 30,
                    "two gunicorn workers")

    residents = [_login(base, f"restart-resident-{i}", consent=True) for i in range(3)]
    staff, _ = _login(base, "grid", consent=False)
    load = Load(base, deadline=time.monotonic() + 600)
    threads = [_guarded(load, _resident, headers, uid) for headers, uid in residents]
    threads.append(_guarded(load, _staff, staff))
    for t in threads:
        t.start()

    faults = []   # (kind, fault begun, database gone, back, first success, ready again)
    aborted = True
    try:
        _wait(lambda: len([a for a in load.answers if a.status == 201]) >= 5, 60, "the load to get going", load)
        for kind in ("crash", "shutdown"):
            begun = time.monotonic()
            down = mariadb.crash() if kind == "crash" else mariadb.shutdown()
            # The outage is felt: /readyz says not ready and the API answers 503.
            _wait(lambda: _readyz(base) == 503, 30, f"/readyz to fail after the {kind}", load)
            _wait(lambda: any(a.status == 503 and a.t0 >= down for a in load.answers), 30,  # noqa: B023 (called here)
                  f"a 503 after the {kind}", load)
            time.sleep(max(0.0, down + DOWN_FOR - time.monotonic()))
            back = mariadb.start()
            first = _wait(lambda: _first_success_after(load, back), RECOVERY_LIMIT + 15,  # noqa: B023 (called here)
                          f"a success after the database came back ({kind})", load)
            ready = _wait(lambda: _readyz(base) == 200 and time.monotonic(), 30, f"/readyz ready after the {kind}",
                          load)
            faults.append((kind, begun, down, back, first.t1, ready))
            # Some traffic on the recovered database before the next fault.
            settle = time.monotonic()
            _wait(lambda: len([a for a in load.answers if a.t0 >= settle and a.status == 201]) >= 5, 60,  # noqa: B023
                  f"creates after recovering from the {kind}", load)
        aborted = False
    finally:
        # Creates under way finish (retried until they land), unless the test already failed.
        load.stop.set()
        load.deadline = min(load.deadline, time.monotonic() + (0 if aborted else 60))
        for t in threads:
            t.join(timeout=CLIENT_TIMEOUT + 70)
    end = time.monotonic()

    answers = list(load.answers)
    transport = [a for a in answers if a.status is None]

    # Requests lost = 0: every logical create ended with exactly one ticket, the one the client saw.
    creates = list(load.creates)
    unfinished = [c for c in creates if c.ticket_id is None]
    user_ids = sorted({uid for _, uid in residents})
    marks = ",".join(["%s"] * len(user_ids))
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute(f"USE `{mariadb.database}`")
        cur.execute(f"SELECT `key`, result_id FROM idempotency_keys WHERE user_id IN ({marks})", user_ids)
        keys = dict(cur.fetchall())
        cur.execute(f"SELECT id, description FROM tickets WHERE reporter_id IN ({marks})", user_ids)
        tickets = dict(cur.fetchall())
    seen = {c.key: c.ticket_id for c in creates if c.ticket_id is not None}
    lost = [k for k, tid in seen.items() if keys.get(k) != tid or tid not in tickets]
    per_key: dict[str, int] = {}
    for description in tickets.values():
        key = re.search(r"[0-9a-f]{32}$", description).group(0)
        per_key[key] = per_key.get(key, 0) + 1
    duplicates = sum(n - 1 for n in per_key.values())
    strays = set(per_key) - set(seen)

    outage = [a for a in answers if any(a.t1 >= begun and a.t0 <= first for _, begun, _, _, first, _ in faults)]
    retries = sum(c.attempts - 1 for c in creates)
    figures = (
        f"FAULTS injected={len(faults)} ({', '.join(f[0] for f in faults)}) requests={len(answers)} "
        f"during_outage={len(outage)} 503={sum(a.status == 503 for a in answers)} "
        f"409={sum(a.status == 409 for a in answers)} 429={sum(a.status == 429 for a in answers)} "
        f"500={sum(a.status is not None and a.status >= 500 and a.status != 503 for a in answers)} "
        f"no_answer={len(transport)} creates={len(creates)} retries={retries} "
        f"replayed={sum(c.status == 200 for c in creates)} lost={len(lost) + len(unfinished)} "
        f"duplicates={duplicates} recovery_s=" + "/".join(f"{f[4] - f[3]:.2f}" for f in faults)
        + " readyz_s=" + "/".join(f"{f[5] - f[3]:.2f}" for f in faults)
        + " outage_s=" + "/".join(f"{f[4] - f[1]:.2f}" for f in faults)
        + f" workers_restarted={len(workers - _children(master))} total_s={end - load.answers[0].t0:.1f}"
    )
    print("\n" + figures)

    # Same master, same workers: nothing restarted, nothing killed by the worker timeout.
    assert server.proc.poll() is None, "the gunicorn master died"
    assert _children(master) == workers, f"workers restarted: {workers} -> {_children(master)}"
    assert not load.crashed, load.crashed
    assert _readyz(base) == 200

    wrong = [a for a in answers if a.status is not None and a.status not in {200, 201} | RETRYABLE]
    bare = [a for a in answers if a.status is not None and a.status >= 300 and not a.envelope]
    assert not transport, f"no HTTP answer (hang or dropped connection): {transport[:5]}"
    assert not wrong, f"answers other than 2xx/409/429/503: {wrong[:5]}"
    assert not bare, f"errors without the envelope: {bare[:5]}"
    assert all(a.message in ("database_unavailable", "conflict", "rate_limited", "")
               for a in answers if a.status in RETRYABLE), {a.message for a in answers if a.status in RETRYABLE}

    # Recovered means recovered: once a request succeeded on the restarted database, no
    # request started after that success fails, up to the next fault.
    stops = [f[1] for f in faults[1:]] + [end]
    for (kind, _begun, _down, back, first, _ready), until in zip(faults, stops):
        late = [a for a in answers if first <= a.t0 and a.t1 < until and a.status not in (200, 201)]
        assert not late, f"failures after recovering from the {kind}: {late[:5]}"
        assert first - back < RECOVERY_LIMIT, f"{kind}: first success {first - back:.1f} s after the database was back"

    assert not unfinished, f"creates that never succeeded: {unfinished[:3]}"
    assert not lost, f"lost creates (client saw success, not in the database): {lost[:5]}"
    assert duplicates == 0 and not strays, (duplicates, strays)
    assert len(tickets) == len(creates) == len(keys)

