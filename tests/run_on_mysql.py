"""Run the suite against MariaDB/MySQL in a fresh database, when one answers.

MYSQL_ADMIN_URL (default mysql+pymysql://root@127.0.0.1:3306/test) names the server;
the run gets its own database, dropped afterwards. With no server answering, it says so
and exits 0 unless REQUIRE_MYSQL=1.
"""
import os
import secrets
import subprocess
import sys

import pymysql
from sqlalchemy.engine import make_url

admin = make_url(os.environ.get("MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/test"))
try:
    conn = pymysql.connect(host=admin.host, port=admin.port or 3306, user=admin.username,
                           password=admin.password or "", connect_timeout=3, autocommit=True)
except pymysql.err.OperationalError as exc:
    print(f"MariaDB/MySQL not reachable at {admin.host}:{admin.port}: {exc}; MySQL run skipped")
    sys.exit(1 if os.environ.get("REQUIRE_MYSQL") == "1" else 0)

name = f"gongzhi_test_{secrets.token_hex(4)}"
with conn.cursor() as cur:
    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
try:
    env = dict(os.environ, TEST_DATABASE_URL=admin.set(database=name).render_as_string(hide_password=False))
    print(f"== the suite on MySQL ({name})", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)
finally:
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()
sys.exit(code)
