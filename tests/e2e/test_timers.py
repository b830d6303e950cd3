"""`flask timers`: the ticket timers as their own process (not the notification worker),
run every SWEEP_INTERVAL_SECONDS and stopped by SIGTERM."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.e2e.live import flask, production_env

pytestmark = pytest.mark.e2e


def test_the_timers_process_escalates_an_overdue_report_and_stops_on_sigterm(fake_wechat, tmp_path):
    env = production_env(fake_wechat, tmp_path)
    flask(env, "db", "upgrade", "heads")
    flask(env, "seed-demo")
    url = env["DATABASE_URL"]
    engine = sa.create_engine(url)
    from server.timeutil import utcnow

    with engine.begin() as conn:
        # A report routed to the demo community, its response time already past.
        unit_id = conn.execute(sa.text("SELECT id FROM units WHERE parent_id IS NOT NULL ORDER BY depth DESC LIMIT 1")).scalar()
        category_id = conn.execute(sa.text("SELECT id FROM categories ORDER BY id LIMIT 1")).scalar()
        past = utcnow() - timedelta(hours=2)
        ticket_id = conn.execute(sa.text(
            "INSERT INTO tickets (category_id, unit_id, anonymous, description, lat, lng, address, status, triage, held, "
            "hidden, priority, respond_by, resolve_by, overdue, redo_count, supporters, version, created_at, updated_at) "
            "VALUES (:c, :u, 0, '路灯不亮', 30.57, 114.27, '', 'submitted', 0, 0, 0, 'normal', :past, :later, 0, 0, 0, 1, "
            ":past, :past)"), {"c": category_id, "u": unit_id, "past": past, "later": utcnow() + timedelta(days=3)}).lastrowid
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "flask"), "timers"],
                            env={**env, "SWEEP_INTERVAL_SECONDS": "1"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        escalated = False
        while time.monotonic() < deadline and not escalated:
            with engine.connect() as conn:
                escalated = bool(conn.execute(sa.text("SELECT overdue FROM tickets WHERE id = :t"), {"t": ticket_id}).scalar())
                events = conn.execute(sa.text("SELECT action, actor_role FROM ticket_events WHERE ticket_id = :t"),
                                      {"t": ticket_id}).all()
            time.sleep(0.3)
        assert escalated
        assert [tuple(e) for e in events] == [("escalate", "system")]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
