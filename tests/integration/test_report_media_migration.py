"""Migration b1c2000000a1 puts each report's photos on its ticket row, in their order,
for the tickets filed before it (on a database of its own, migrated step by step)."""
import json

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server import create_app
from server.config import TestConfig as MigrationConfig
from server.extensions import db


def test_existing_reports_get_their_photos(tmp_path):
    config = MigrationConfig()
    config.SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "m.sqlite3")
    config.MEDIA_ROOT = str(tmp_path / "media")
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        downgrade(revision="a0000000merge")
        with db.engine.begin() as conn:
            run = conn.exec_driver_sql
            run("INSERT INTO users (id, openid, nickname, is_dev, created_at) VALUES (1, 'dev:a', '', 1, '2026-01-01')")
            run("INSERT INTO categories (id, code, name, icon, description, respond_hours, resolve_days, active, sort_order) "
                "VALUES (1, 'c', 'c', '', '', 24, 7, 1, 0)")
            run("INSERT INTO units (id, code, name, kind, depth, path, created_at, updated_at) "
                "VALUES (1, 'u', 'u', 'street', 0, '/1/', '2026-01-01', '2026-01-01')")
            for tid in (1, 2):
                run("INSERT INTO tickets (id, category_id, unit_id, reporter_id, anonymous, description, lat, lng, address, "
                    "status, triage, held, hidden, priority, respond_by, resolve_by, overdue, redo_count, supporters, version, "
                    f"created_at, updated_at) VALUES ({tid}, 1, 1, 1, 0, 'd', 30.5, 114.3, '', 'resolved', 0, 0, 0, 'normal', "
                    "'2026-01-02', '2026-01-09', 0, 0, 0, 1, '2026-01-01', '2026-01-01')")
            # Ticket 1: two report photos stored out of order, and an answer photo (12) that is not
            # the report's; ticket 2's report has none.
            run("INSERT INTO ticket_events (id, ticket_id, action, to_status, actor_role, note, public, data, created_at) "
                "VALUES (1, 1, 'report', 'submitted', 'reporter', '', 1, '{}', '2026-01-01'), "
                "(2, 1, 'resolve', 'resolved', 'cadre', '', 1, '{}', '2026-01-02'), "
                "(3, 2, 'report', 'submitted', 'reporter', '', 1, '{}', '2026-01-01')")
            for mid, event, position in ((11, 1, 1), (10, 1, 0), (12, 2, 0)):
                run("INSERT INTO media (id, owner_id, key, thumb_key, content_type, width, height, size, sha256, event_id, "
                    f"position, created_at) VALUES ({mid}, 1, 'k{mid}.jpg', 'k{mid}-thumb.jpg', 'image/jpeg', 1, 1, 1, "
                    f"'s{mid}', {event}, {position}, '2026-01-01')")
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, report_media FROM tickets ORDER BY id")).all())
        db.session.remove()
        db.engine.dispose()
    assert json.loads(rows[1]) == [{"id": 10, "key": "k10.jpg", "thumb_key": "k10-thumb.jpg"},
                                   {"id": 11, "key": "k11.jpg", "thumb_key": "k11-thumb.jpg"}]
    assert rows[2] is None
