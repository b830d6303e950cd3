"""The ceiling of the stack: a bare Flask + Flask-SQLAlchemy app with the service's engine
settings, doing one indexed SELECT by primary key (GET /items/<id>) or one INSERT
(POST /items) per request, each in its own transaction; for reference beside the lists, a
page of 20 rows by the primary key (GET /items?before=<id>&limit=20). The benchmark serves
it with the same gunicorn config as the service and divides the service's figures by its
figures.

    DATABASE_URL=mysql+pymysql://... gunicorn -c deploy/gunicorn.conf.py tests.bench.ceiling_app:app

No auth, no schemas, no logging, no hooks: what is left is Flask's routing and JSON,
SQLAlchemy's ORM and pool (pre-ping on checkout, and a rollback on return only when a
transaction is open, as in the service), PyMySQL and MariaDB's commit.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.config import Config
from server.db_setup import configure_engine_options, install_pool_reset


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Item(db.Model):
    """As wide as a small ticket row: a few numbers, a line of text and a timestamp."""

    __tablename__ = "ceiling_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    lat: Mapped[float] = mapped_column(sa.Double)
    lng: Mapped[float] = mapped_column(sa.Double)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql"))


def _out(item: Item) -> dict:
    return {"id": item.id, "owner_id": item.owner_id, "title": item.title, "body": item.body, "lat": item.lat,
            "lng": item.lng, "created_at": item.created_at.isoformat()}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    # The service's engine options (pre-ping, recycle) and its MySQL settings (utf8mb4, READ COMMITTED).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(Config().SQLALCHEMY_ENGINE_OPTIONS)
    configure_engine_options(app)
    app.json.ensure_ascii = False
    db.init_app(app)
    with app.app_context():
        install_pool_reset(db.engine)

    @app.get("/items/<int:item_id>")
    def get_item(item_id):
        item = db.session.get(Item, item_id)
        if item is None:
            abort(404)
        return jsonify(_out(item))

    @app.get("/items")
    def page_of_items():
        # A page as a list answers it: the 20 rows below a cursor, newest first, by the primary key.
        before = request.args.get("before", type=int) or 1 << 62
        limit = min(request.args.get("limit", default=20, type=int), 100)
        items = db.session.execute(sa.select(Item).where(Item.id < before).order_by(Item.id.desc()).limit(limit)).scalars()
        return jsonify({"items": [_out(item) for item in items]})

    @app.post("/items")
    def add_item():
        data = request.get_json()
        item = Item(owner_id=int(data["owner_id"]), title=str(data["title"]), body=str(data["body"]),
                    lat=float(data["lat"]), lng=float(data["lng"]), created_at=datetime.now(timezone.utc))
        db.session.add(item)
        db.session.commit()
        return jsonify(_out(item)), 201

    return app


def prepare(database_url: str, rows: int = 10_000) -> None:
    """Create the table with `rows` rows to read."""
    engine = sa.create_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(Item.__table__.insert(), [
            {"owner_id": i % 997 + 1, "title": f"第{i}条", "body": "楼下的路灯坏了三盏，晚上很黑，老人出门不安全",
             "lat": 30.56 + (i % 600) / 10_000, "lng": 114.26 + (i % 800) / 10_000, "created_at": now}
            for i in range(rows)])
    engine.dispose()


app = create_app() if os.environ.get("DATABASE_URL") else None
