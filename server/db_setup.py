"""Engine settings per backend: utf8mb4 on MySQL, WAL and foreign keys on SQLite."""
from __future__ import annotations

from flask import Flask
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
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def install_listeners(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


def commit() -> None:
    """The request boundary's single commit."""
    db.session.commit()


def register_request_commit(app: Flask) -> None:
    """Commit once at the request boundary when the answer is a success; else roll back."""

    from sqlalchemy.orm.exc import StaleDataError

    from sqlalchemy.exc import OperationalError

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
