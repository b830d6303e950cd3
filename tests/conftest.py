"""Fixtures shared by every test.

The database is SQLite (a file, so several connections and processes see it) unless
TEST_DATABASE_URL names another (MariaDB/MySQL through PyMySQL). The schema is built
by the migrations, once per run; each test starts from empty tables.
"""
from __future__ import annotations

import os

import pytest

from server import create_app
from server.cache import forget_all as forget_caches
from server.config import TestConfig
from server.extensions import db
from tests.fakes.wechat import FakeWeChat
from tests.response_check import DocumentedClient, dropped_keys

MYSQL = os.environ.get("TEST_DATABASE_URL", "").startswith("mysql")


@pytest.fixture(scope="session")
def fake_wechat():
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _no_leftover_faults(fake_wechat):
    """A fault a test set up and did not use up never reaches the next test."""
    fake_wechat.reset_faults()
    yield
    fake_wechat.reset_faults()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def app(database_url, fake_wechat, tmp_path_factory):
    from flask_migrate import downgrade, upgrade

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.WECHAT_APP_ID = fake_wechat.appid
    config.WECHAT_APP_SECRET = fake_wechat.secret
    config.WECHAT_API_BASE = fake_wechat.base_url
    config.WECHAT_TIMEOUT = 2
    config.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    app = create_app(config)
    app.test_client_class = DocumentedClient  # every answer checked against the OpenAPI document
    with app.app_context():
        if MYSQL:
            downgrade(revision="base")  # a previous run may have left tables behind
        upgrade(revision="heads")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables():
    """Delete every row, foreign-key checks off (units refer to units, RESTRICT)."""
    engine = db.engine
    off, on = {"mysql": ("SET FOREIGN_KEY_CHECKS=0", "SET FOREIGN_KEY_CHECKS=1"),
               "sqlite": ("PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON")}[engine.dialect.name]
    with engine.connect() as conn:
        conn.exec_driver_sql(off)
        for table in reversed(db.metadata.sorted_tables):
            conn.exec_driver_sql(f"DELETE FROM {table.name}")  # history tables too: SQL text, not refused
        conn.commit()
        conn.exec_driver_sql(on)


@pytest.fixture(autouse=True)
def _answers_lose_no_keys():
    """No schema dump left out a key that a view or operation put in its answer."""
    with dropped_keys() as noted:
        yield
    assert not noted, f"keys their schemas do not declare, dropped from answers: {noted}"


@pytest.fixture
def ctx(app, fake_wechat):
    """An app context over empty tables and a fake WeChat with no faults."""
    fake_wechat.reset_faults()
    with app.app_context():
        _empty_tables()
        forget_caches()  # every process cache: the tables were emptied
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(ctx):
    return ctx.test_client()


@pytest.fixture
def demo(ctx):
    from server.demo import seed_demo

    seed_demo()
    db.session.commit()
    return ctx


@pytest.fixture
def login(client):
    """login("grid") -> headers for that dev user (a demo staff name or any new name)."""

    def _login(name: str, *, consent: bool = True) -> dict:
        res = client.post("/api/v1/auth/login", json={"code": f"dev:{name}"})
        assert res.status_code == 200, res.json
        headers = {"Authorization": f"Bearer {res.json['token']}"}
        if consent:
            agree(client, headers)
        return headers

    return _login


def agree(client, headers) -> None:
    """The user agrees to the current privacy policy (needed before a first report)."""
    version = client.get("/api/v1/me/consent", headers=headers).json["current_version"]
    assert client.post("/api/v1/me/consent", json={"policy_version": version}, headers=headers).status_code == 201


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-speaking server (moto's, its own process) on 127.0.0.1, started once a run."""
    from tests.s3server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


class MediaStore:
    """Where the app keeps photos for this test: `name` ("local" or "s3"), `keys()` the stored keys."""

    def __init__(self, app, name: str, s3_server=None, bucket: str = ""):
        self.app, self.name, self.s3_server, self.bucket = app, name, s3_server, bucket

    def keys(self) -> list[str]:
        if self.name == "s3":
            return self.s3_server.keys(self.bucket)
        with self.app.app_context():
            from server.media.operations import storage

            return sorted(storage().keys())


@pytest.fixture(params=["local", "s3"])
def media_store(request, app):
    """The test runs twice: photos on disk (MEDIA_ROOT, emptied first), then in a new bucket of
    a real S3 server (MEDIA_STORAGE=s3)."""
    import shutil

    if request.param == "local":
        shutil.rmtree(app.config["MEDIA_ROOT"], ignore_errors=True)
        os.makedirs(app.config["MEDIA_ROOT"])
        app.extensions.pop("gongzhi.media", None)
        yield MediaStore(app, "local")
        app.extensions.pop("gongzhi.media", None)
        return
    server = request.getfixturevalue("s3_server")
    settings = server.settings()
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    app.extensions.pop("gongzhi.media", None)
    try:
        yield MediaStore(app, "s3", server, settings["S3_BUCKET"])
    finally:
        app.config.update(saved)
        app.extensions.pop("gongzhi.media", None)
