"""Gongzhi (共治): the service."""
from __future__ import annotations

import os

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.routing import IntegerConverter

from . import jsonio
from .config import Config


class BoundedInt(IntegerConverter):
    """<int:...> in routes: ids beyond a database INT match no route (404), never overflow."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's signature)
        from .paging import ID_MAX

        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers; nothing else."""
    app = Flask(__name__, instance_relative_config=True)
    cfg = config if config is not None else Config()
    if isinstance(cfg, Config):
        cfg.validate()
        app.config.update(cfg.as_dict())
    else:
        app.config.update(Config().as_dict())
        app.config.update(cfg)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "gongzhi.sqlite3")
    if not app.config.get("MEDIA_ROOT"):
        app.config["MEDIA_ROOT"] = os.path.join(app.instance_path, "media")
    app.json = jsonio.Provider(app)
    app.session_interface = _NoCookieSessions()
    app.url_map.converters["int"] = BoundedInt

    from . import db_setup
    from .errors import register_error_handlers
    from .extensions import api, db, migrate
    from .ops import init_app as init_ops

    init_ops(app)  # request ids, logs, metrics, rate limits: first, so its hooks see every response
    db_setup.configure_engine_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), os.pardir, "migrations"),
                     compare_type=True, render_as_batch=True)
    db_setup.install_listeners(app)
    db_setup.register_request_commit(app)
    api.init_app(app)
    register_error_handlers(app)

    from . import blueprints

    blueprints.register(app, api)
    _serve_swagger_ui(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _serve_swagger_ui(app: Flask) -> None:
    """Swagger UI's files (the flask-swagger-ui package's swagger-ui-dist) at
    SWAGGER_UI_STATIC, for /api/docs."""
    from flask import Blueprint
    from flask_swagger_ui import __file__ as package

    from .config import SWAGGER_UI_STATIC

    app.register_blueprint(Blueprint("swagger_ui", __name__, static_folder=os.path.join(os.path.dirname(package), "dist"),
                                     static_url_path=SWAGGER_UI_STATIC))


class _NoCookieSessions(SessionInterface):
    """No cookie sessions: clients sign in with a bearer token and nothing reads
    `flask.session`. Flask's default would still build a signer and look for a cookie on
    every request; here each request gets Flask's null session, which refuses writes."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        return None
