"""A read replica (server/replica.py) against real binlog replication: two private MariaDB
servers started here, the second a replica of the first (CHANGE MASTER TO ... START SLAVE).

Lag-tolerant reads (report cards, bulletins, nearby and map lists) go to the replica while
it replicates and is at most REPLICA_MAX_LAG_SECONDS behind; writes and the reads of who is
signed in never do. Replication stopped, a replica lagging (a delayed replica), or down:
the reads go to the primary, answers stay 200, and come back to the replica once it is well.
"""
from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from server import config as settings
from server import create_app
from server.extensions import db
from server.replica import replica, replica_read
from tests.api.helpers import IN_HQ_1_1, report
from tests.conftest import agree
from tests.e2e.private_mariadb import PrivateMariaDB, binaries

pytestmark = [
    pytest.mark.e2e,
    # It brings its own two database servers, so it runs once per `make test`: on the SQLite pass.
    pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("mysql"),
                       reason="brings its own MariaDB servers; run once, on the SQLite pass"),
]

MAX_LAG = 2
SERVER_ID = sa.select(sa.literal_column("@@server_id"))


def _sql(server, statement: str, *args):
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(statement, args or None)
        return cur.fetchall()


def _status(replica_server) -> dict:
    with replica_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW SLAVE STATUS")
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else {}


def _caught_up(primary, replica_server, timeout: float = 60) -> None:
    file, pos = _sql(primary, "SHOW MASTER STATUS")[0][:2]
    got = _sql(replica_server, "SELECT MASTER_POS_WAIT(%s, %s, %s)", file, pos, int(timeout))[0][0]
    assert got is not None and got >= 0, (got, _status(replica_server))


@pytest.fixture(scope="module")
def servers():
    if None in binaries():
        pytest.skip("mariadbd / mariadb-install-db not installed")
    primary = PrivateMariaDB(database=None, server_args=("--server-id=1", "--log-bin=primary-bin",
                                                         "--binlog-format=ROW"))
    replica_server = PrivateMariaDB(database=None, server_args=("--server-id=2", "--relay-log=replica-relay"))
    with primary, replica_server:
        file, pos = _sql(primary, "SHOW MASTER STATUS")[0][:2]
        _sql(replica_server, f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
                             f"MASTER_USER='root', MASTER_PASSWORD='', MASTER_LOG_FILE='{file}', "
                             f"MASTER_LOG_POS={pos}, MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=no")
        _sql(replica_server, "START SLAVE")
        _sql(primary, "CREATE DATABASE gongzhi CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        _caught_up(primary, replica_server)
        yield primary, replica_server


@pytest.fixture(scope="module")
def app(servers, fake_wechat, tmp_path_factory):
    from flask_migrate import upgrade

    from server.demo import seed_demo

    primary, replica_server = servers
    config = settings.TestConfig()
    config.SQLALCHEMY_DATABASE_URI = f"mysql+pymysql://root@127.0.0.1:{primary.port}/gongzhi"
    config.DATABASE_REPLICA_URL = f"mysql+pymysql://root@127.0.0.1:{replica_server.port}/gongzhi"
    config.REPLICA_MAX_LAG_SECONDS = MAX_LAG
    config.REPLICA_CHECK_SECONDS = 0  # every read asks: the test sees each change at once
    config.WECHAT_APP_ID, config.WECHAT_APP_SECRET = fake_wechat.appid, fake_wechat.secret
    config.WECHAT_API_BASE = fake_wechat.base_url
    config.MEDIA_ROOT = str(tmp_path_factory.mktemp("replica-media"))
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        seed_demo()
        db.session.commit()
        client = app.test_client()
        token = client.post("/api/v1/auth/login", json={"code": "dev:resident"}).json["token"]
        app.resident = {"Authorization": f"Bearer {token}"}
        agree(client, app.resident)
        assert report(client, app.resident, description="副本：第一条反映").status_code == 201
    _caught_up(primary, replica_server)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        replica().engine.dispose()


@pytest.fixture
def on_replica(app):
    """The statements this test sent to the replica."""
    with app.app_context():
        engine = replica().engine
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", listen)


def _server_id(app) -> tuple[bool, int]:
    with app.app_context(), replica_read() as routed:
        found = db.session.execute(SERVER_ID).scalar_one()
        db.session.rollback()
        return routed, int(found)


def _wait_for(predicate, timeout: float = 30, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"waited {timeout} s for {what}")


def _nearby(app) -> list[str]:
    res = app.test_client().get("/api/v1/tickets/nearby", query_string=IN_HQ_1_1, headers=app.resident)
    assert res.status_code == 200, res.json
    return [t["description"] for t in res.json["items"]]


def test_lag_tolerant_reads_go_to_the_replica_and_writes_do_not(app, servers, on_replica):
    primary, replica_server = servers
    assert _server_id(app) == (True, 2)
    with app.app_context():
        assert db.session.execute(SERVER_ID).scalar_one() == 1      # outside a block: the primary
        db.session.rollback()
        with replica_read():  # a write inside the block still goes to the primary
            db.session.execute(sa.text("UPDATE units SET name = CONCAT(name, '·') WHERE code = 'gz-demo'"))
            db.session.commit()
    assert _sql(primary, "SELECT name FROM gongzhi.units WHERE code = 'gz-demo'")[0][0].endswith("·")
    on_replica.clear()
    assert "副本：第一条反映" in _nearby(app)                        # a resident's public list, signed in
    assert any("tickets" in s for s in on_replica if not s.startswith("SHOW SLAVE STATUS"))
    unit_id = _sql(primary, "SELECT id FROM gongzhi.units WHERE code = 'gz-demo-hq'")[0][0]
    client = app.test_client()
    for path in (f"/api/v1/stats/units/{unit_id}", f"/api/v1/stats/units/{unit_id}/ranking",
                 f"/api/v1/stats/units/{unit_id}/categories", "/api/v1/bulletins", "/api/v1/tickets/map?"
                 "min_lat=30.5&min_lng=114.2&max_lat=30.6&max_lng=114.4"):
        assert client.get(path).status_code == 200, path
    reads = [s for s in on_replica if not s.startswith("SHOW SLAVE STATUS")]
    assert any("tickets" in s for s in reads) and any("report_" in s or "unit" in s for s in reads), reads
    assert all(s.lstrip().upper().startswith("SELECT") for s in reads), reads
    # Who is signed in, and with which posts, is read from the primary only.
    assert not [s for s in reads if "auth_tokens" in s or "staff_posts" in s or "FROM users" in s]


def test_stopped_replication_sends_reads_to_the_primary(app, servers):
    primary, replica_server = servers
    assert app.test_client().get("/readyz").json["checks"]["replica"] == "ok"
    assert "gongzhi_replica_in_use 1.0" in app.test_client().get("/metrics").text
    _sql(replica_server, "STOP SLAVE")
    try:
        assert _server_id(app) == (False, 1)
        ready = app.test_client().get("/readyz")     # still ready: the primary answers the reads
        assert ready.status_code == 200
        assert ready.json["checks"]["replica"] == {"status": "not_used",
                                                    "reason": "replication stopped (io No, sql No)"}
        assert "gongzhi_replica_in_use 0.0" in app.test_client().get("/metrics").text
        with app.app_context():
            client = app.test_client()
            assert report(client, app.resident, description="副本停了也要看得到").status_code == 201
        assert "副本停了也要看得到" in _nearby(app)                # from the primary, at once
    finally:
        _sql(replica_server, "START SLAVE")
    _caught_up(primary, replica_server)
    _wait_for(lambda: _server_id(app) == (True, 2), what="the replica back in use")


def test_a_replica_behind_by_more_than_the_limit_is_not_read(app, servers):
    primary, replica_server = servers
    _sql(replica_server, "STOP SLAVE")
    _sql(replica_server, "CHANGE MASTER TO MASTER_DELAY=8")           # a replica that lags 8 s
    _sql(replica_server, "START SLAVE")
    try:
        with app.app_context():
            assert report(app.test_client(), app.resident, description="副本落后八秒").status_code == 201
        _wait_for(lambda: (_status(replica_server).get("Seconds_Behind_Master") or 0) > MAX_LAG, timeout=20,
                  what="Seconds_Behind_Master over the limit")
        assert _server_id(app) == (False, 1)
        assert "副本落后八秒" in _nearby(app)
        assert _sql(replica_server, "SELECT COUNT(*) FROM gongzhi.tickets WHERE description = '副本落后八秒'")[0][0] == 0
    finally:
        _sql(replica_server, "STOP SLAVE")
        _sql(replica_server, "CHANGE MASTER TO MASTER_DELAY=0")
        _sql(replica_server, "START SLAVE")
    _caught_up(primary, replica_server)
    _wait_for(lambda: _server_id(app) == (True, 2), what="the replica back in use")


def test_a_replica_that_is_down_sends_reads_to_the_primary(app, servers):
    primary, replica_server = servers
    with app.app_context():
        kept = replica()
        kept.check_every = 3600   # it was well at the last check, and is not asked again soon
        assert kept.usable()
    replica_server.crash()
    try:
        # The read fails on the replica and runs again on the primary; the replica is set aside.
        assert "副本：第一条反映" in _nearby(app)
        assert _server_id(app) == (False, 1)
        kept.check_every = 0
        assert _server_id(app) == (False, 1)                       # unreachable at each check
        unit_id = _sql(primary, "SELECT id FROM gongzhi.units WHERE code = 'gz-demo-hq'")[0][0]
        assert app.test_client().get(f"/api/v1/stats/units/{unit_id}").status_code == 200
        assert "副本：第一条反映" in _nearby(app)
    finally:
        replica_server.start()
    _wait_for(lambda: _status(replica_server).get("Slave_SQL_Running") == "Yes", what="replication restarted")
    _caught_up(primary, replica_server)
    _wait_for(lambda: _server_id(app) == (True, 2), what="the replica back in use")
