"""A connection goes back to the pool rolled back when it holds a transaction, and without a
ROLLBACK when its request already ended in a commit (server/db_setup.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db_setup import install_pool_reset
from tests.conftest import MYSQL


@pytest.fixture
def engine(app, database_url):
    """One pooled connection with the app's engine settings, so each checkout gets it back."""
    options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_size": 1, "max_overflow": 0}
    engine = sa.create_engine(database_url, **options)
    install_pool_reset(engine)
    yield engine
    engine.dispose()


def test_an_open_transaction_is_rolled_back_on_return(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS pool_reset_probe"))
        conn.execute(sa.text("CREATE TABLE pool_reset_probe (n INTEGER)"))
    try:
        raw = engine.raw_connection()  # a driver-level transaction the Connection never saw
        cursor = raw.cursor()
        cursor.execute("INSERT INTO pool_reset_probe (n) VALUES (1)")
        cursor.close()
        raw.close()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM pool_reset_probe")).scalar_one() == 0
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE pool_reset_probe"))


@pytest.mark.skipif(not MYSQL, reason="counts the ROLLBACK statements the server received (MySQL/MariaDB status)")
def test_a_committed_connection_returns_without_a_rollback(engine):
    def rollbacks() -> int:
        with engine.connect() as conn:
            count = int(conn.execute(sa.text("SHOW SESSION STATUS LIKE 'Com_rollback'")).one()[1])
            conn.commit()
        return count

    first = rollbacks()
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            conn.commit()
    assert rollbacks() == first
