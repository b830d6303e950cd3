"""Engine settings per backend: utf8mb4 on MySQL, WAL and foreign keys on SQLite, and a
connection's return to the pool without a ROLLBACK it does not need."""
from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Flask
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_IN_TRANS
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from .extensions import db


def configure_engine_options(app: Flask) -> None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.get_backend_name() == "mysql":
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
            app.config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
        options.setdefault("isolation_level", "READ COMMITTED")
        # An unreachable database host answers 503 after 5 s, not PyMySQL's 10 s: a report
        # may try twice (the rate limiter's user lookup, then the view) within gunicorn's 30 s.
        options.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    elif url.get_backend_name() == "sqlite":
        options.pop("pool_recycle", None)
        options.setdefault("connect_args", {"timeout": 30})
    # The pool's own rollback on return is replaced by _reset_if_in_transaction (install_listeners).
    options.setdefault("pool_reset_on_return", None)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _in_transaction(dbapi_connection) -> bool:
    """Whether the connection is inside a transaction, as its driver knows without asking:
    PyMySQL keeps the server's status flags from its last answer, sqlite3 tracks its own.
    Any other driver: assume so."""
    status = getattr(dbapi_connection, "server_status", None)
    if isinstance(status, int):
        return bool(status & SERVER_STATUS_IN_TRANS)
    in_transaction = getattr(dbapi_connection, "in_transaction", None)
    return in_transaction if isinstance(in_transaction, bool) else True


def _reset_if_in_transaction(dbapi_connection, _record, reset_state) -> None:
    """A connection going back to the pool is rolled back only when a transaction is open.
    The pool's default rolls back every time, but every request here ends in its commit
    (or its rollback), so that ROLLBACK was a round trip per request doing nothing."""
    if not reset_state.terminate_only and _in_transaction(dbapi_connection):
        dbapi_connection.rollback()


def install_pool_reset(engine: Engine) -> None:
    """With `pool_reset_on_return=None` (configure_engine_options), the reset the pool runs."""
    event.listen(engine, "reset", _reset_if_in_transaction)


def install_listeners(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        install_pool_reset(engine)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


def commit() -> None:
    """The request boundary's single commit."""
    db.session.commit()


def register_request_commit(app: Flask) -> None:
    """Commit once at the request boundary when the answer is a success; else roll back."""

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from .errors import conflict_response, database_error_response

    @app.after_request
    def _commit(response):
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return conflict_response()
        except OperationalError as err:
            db.session.rollback()
            return database_error_response(err)
        return response


@functools.cache
def _skipping(table: sa.Table, conflict: tuple[str, ...], dialect: str):
    if dialect in ("mysql", "mariadb"):
        return sa.insert(table).prefix_with("IGNORE")
    if dialect == "sqlite":
        return sa.insert(table).prefix_with("OR IGNORE")
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    raise NotImplementedError(f"no duplicate-skipping INSERT for {dialect}")


@functools.cache
def _replacing(table: sa.Table, conflict: tuple[str, ...], columns: tuple[str, ...], dialect: str):
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        stmt = mysql_insert(table)
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in columns})
    if dialect in ("sqlite", "postgresql"):
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = (sqlite_insert if dialect == "sqlite" else pg_insert)(table)
        return stmt.on_conflict_do_update(index_elements=list(conflict), set_={c: stmt.excluded[c] for c in columns})
    raise NotImplementedError(f"no upsert for {dialect}")


def insert_or_replace(table: sa.Table, conflict: tuple[str, ...], columns: tuple[str, ...]):
    """One statement that inserts a row, or sets `columns` of the row already holding its
    unique key (`conflict`): ON DUPLICATE KEY UPDATE on MySQL/MariaDB, ON CONFLICT DO UPDATE
    on SQLite and PostgreSQL."""
    return _replacing(table, conflict, columns, db.session.get_bind().dialect.name)


def insert_skipping_duplicates(table: sa.Table, *conflict: str):
    """An INSERT that adds nothing for a row whose unique key (`conflict`, its columns) is
    already taken, where a failed INSERT would cost a savepoint around it: IGNORE on
    MySQL/MariaDB, OR IGNORE on SQLite, ON CONFLICT DO NOTHING on PostgreSQL. The result's
    rowcount says how many rows went in."""
    return _skipping(table, conflict, db.session.get_bind().dialect.name)
