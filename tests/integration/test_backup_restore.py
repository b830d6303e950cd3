"""deploy/backup.sh then deploy/restore.sh on MariaDB/MySQL: every row and every photo survives.

A fresh database gets the migrations, the demo district and a few reports with real
uploaded photos (through the API); it is backed up, restored into a second database that
does not exist yet and a second, empty photo directory, and the two are compared table by
table, row by row, file by file. Both databases are dropped afterwards.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pymysql
import pytest
from sqlalchemy.engine import make_url

from tests.api.helpers import IN_HQ_1_1, IN_MY_1, jpeg_bytes, report, upload
from tests.conftest import agree

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ADMIN = make_url(os.environ.get("MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/test"))


def _admin_connection():
    if not (shutil.which("mysqldump") or shutil.which("mariadb-dump")):
        pytest.skip("mysqldump (or mariadb-dump) is not installed")
    if not (shutil.which("mysql") or shutil.which("mariadb")):
        pytest.skip("the mysql client is not installed")
    try:
        return pymysql.connect(host=ADMIN.host, port=ADMIN.port or 3306, user=ADMIN.username,
                               password=ADMIN.password or "", connect_timeout=3, autocommit=True)
    except pymysql.err.OperationalError as exc:
        pytest.skip(f"MariaDB/MySQL not reachable at {ADMIN.host}:{ADMIN.port or 3306}: {exc}")


def _url(name: str) -> str:
    return ADMIN.set(database=name).render_as_string(hide_password=False)


def _rows(conn, table: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM `{table}`")
        return sorted(cur.fetchall(), key=repr)


def _tables(conn, name: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (name,))
        return [row[0] for row in cur.fetchall()]


def _columns(conn, name: str, table: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT column_name, column_type, is_nullable FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", (name, table))
        return list(cur.fetchall())


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _seed(url: str, media: Path) -> int:
    """Migrations, the demo district, reports with photos and a staff action; returns the photo count."""
    from flask_migrate import upgrade

    from server import create_app
    from server.config import TestConfig
    from server.demo import seed_demo
    from server.extensions import db

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    config.MEDIA_ROOT = str(media)
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        seed_demo()
        db.session.commit()
        client = app.test_client()

        def login(name):
            res = client.post("/api/v1/auth/login", json={"code": f"dev:{name}"})
            assert res.status_code == 200, res.json
            headers = {"Authorization": f"Bearer {res.json['token']}"}
            agree(client, headers)
            return headers

        photos = 0
        for i, (name, place) in enumerate([("backup-a", IN_HQ_1_1), ("backup-b", IN_MY_1), ("backup-c", IN_HQ_1_1)]):
            headers = login(name)
            ids = []
            for shade in range(2):
                res = upload(client, headers, jpeg_bytes(color=(40 * i + 10, 90, 20 * shade + 5), size=(80, 60)))
                assert res.status_code == 201, res.json
                ids.append(res.json["id"])
                photos += 1
            res = report(client, headers, place=place, description=f"备份测试 {i}：井盖松动，夜里有响声", media=ids)
            assert res.status_code == 201, res.json
            if i == 0:
                grid = login("grid")
                accepted = client.post(f"/api/v1/tickets/{res.json['id']}/accept", json={}, headers=grid)
                assert accepted.status_code == 200, accepted.json
        db.session.remove()
        db.engine.dispose()
    return photos


def test_backup_then_restore_keeps_every_row_and_every_photo(tmp_path):
    conn = _admin_connection()
    source, target = (f"gongzhi_backup_{secrets.token_hex(4)}", f"gongzhi_restore_{secrets.token_hex(4)}")
    media_a, media_b, backups = tmp_path / "media-a", tmp_path / "media-b", tmp_path / "backups"
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{source}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        photos = _seed(_url(source), media_a)
        env = dict(os.environ, DATABASE_URL=_url(source), MEDIA_ROOT=str(media_a), BACKUP_DIR=str(backups))
        done = subprocess.run(["bash", str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        folder = Path(done.stdout.strip().splitlines()[-1])
        assert folder.parent == backups and folder.name.startswith("gongzhi-")
        assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "backup.info", "database.sql.gz",
                                                            "media.tar.gz"]
        assert not list(backups.glob(".partial-*"))
        info = (folder / "backup.info").read_text()
        assert f"database={source}" in info and "migrations=" in info

        env = dict(os.environ, DATABASE_URL=_url(target), MEDIA_ROOT=str(media_b))
        done = subprocess.run(["bash", str(DEPLOY / "restore.sh"), str(folder)], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr

        # Every table, its columns and every row.
        tables = _tables(conn, source)
        assert {"tickets", "ticket_events", "media", "users", "notifications", "alembic_version"} <= set(tables)
        assert _tables(conn, target) == tables
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM `{source}`.media")
            assert cur.fetchone()[0] == photos
            cur.execute(f"SELECT COUNT(*) FROM `{source}`.tickets")
            assert cur.fetchone()[0] == 3
            cur.execute(f"SELECT COUNT(*) FROM `{source}`.ticket_events WHERE action = 'accept'")
            assert cur.fetchone()[0] == 1
        a = pymysql.connect(host=ADMIN.host, port=ADMIN.port or 3306, user=ADMIN.username,
                            password=ADMIN.password or "", database=source)
        b = pymysql.connect(host=ADMIN.host, port=ADMIN.port or 3306, user=ADMIN.username,
                            password=ADMIN.password or "", database=target)
        try:
            for table in tables:
                assert _columns(conn, target, table) == _columns(conn, source, table), table
                assert _rows(b, table) == _rows(a, table), table
        finally:
            a.close()
            b.close()

        # Every photo and thumbnail, byte for byte.
        files = _files(media_a)
        assert len(files) == 2 * photos
        assert _files(media_b) == files

        # A second restore over the first is refused without --force, and the checksums guard the files.
        again = subprocess.run(["bash", str(DEPLOY / "restore.sh"), str(folder)], env=env, capture_output=True,
                               text=True, timeout=60)
        assert again.returncode != 0 and "--force" in again.stderr
        with open(folder / "media.tar.gz", "ab") as fh:
            fh.write(b"tampered")
        tampered = subprocess.run(["bash", str(DEPLOY / "restore.sh"), str(folder), "--force"], env=env,
                                  capture_output=True, text=True, timeout=60)
        assert tampered.returncode != 0 and "checksums" in tampered.stderr
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{source}`")
            cur.execute(f"DROP DATABASE IF EXISTS `{target}`")
        conn.close()
