"""The migrations build exactly the models' schema (no autogenerate diff), on SQLite and,
when TEST_DATABASE_URL names one, on MySQL/MariaDB."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.extensions import db


def test_migrated_schema_matches_models(ctx):
    with db.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(mc, db.metadata)
    assert diff == []


def test_utf8mb4_round_trip(ctx):
    from server.auth.models import User

    user = User(openid="o-emoji", nickname="张阿姨👵🏻路灯💡")
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).nickname == "张阿姨👵🏻路灯💡"


def test_times_come_back_as_aware_utc(ctx):
    from datetime import datetime, timedelta, timezone

    from server.auth.models import User

    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 1, 0, 30, 15, 123456, tzinfo=beijing)
    user = User(openid="o-time", last_login_at=at)
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(User, user.id).last_login_at
    assert stored == at and stored.utcoffset() == timedelta(0)
    assert stored.isoformat() == "2026-10-31T16:30:15.123456+00:00"
