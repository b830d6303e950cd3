"""Python calls per request: a measure that does not depend on the machine, for comparing two
versions of the code (run it in each checkout).

    .venv/bin/python tests/bench/calls_per_request.py [get|list|create|cast ...]   (CALLS_TOP=30: the top functions)

A fresh SQLite database in a temporary folder (migrations, the demo district), 25 reports,
then per request kind 20 requests to warm up and 100 under cProfile, through Flask's test
client (no HTTP server).
"""
from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

N, WARM = 100, 20
BODY = {"category": "streetlight", "description": "路灯不亮", "lat": 30.57, "lng": 114.27}


def main(kinds: list[str]) -> None:
    from flask_migrate import upgrade

    from server import create_app
    from server.config import TestConfig
    from server.demo import seed_demo
    from server.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/calls.sqlite3"
        config.MEDIA_ROOT = f"{tmp}/media"
        config.DEV_LOGIN = True
        app = create_app(config)
        with app.app_context():
            upgrade(revision="heads")
            seed_demo()
            db.session.commit()
        client = app.test_client()

        def login(name: str) -> dict:
            headers = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={"code": f"dev:{name}"}).json["token"]}
            version = client.get("/api/v1/me/consent", headers=headers).json["current_version"]
            client.post("/api/v1/me/consent", json={"policy_version": version}, headers=headers)
            return headers

        resident, grid = login("calls"), login("grid")
        ids = [client.post("/api/v1/tickets", json=BODY, headers=resident).json["id"] for _ in range(25)]
        vote_id, option = _open_vote(client, login, resident, grid)
        counter = iter(range(10**6))
        requests = {
            "get": lambda: client.get(f"/api/v1/tickets/{ids[3]}", headers=resident),
            "list": lambda: client.get("/api/v1/tickets?scope=unit&limit=20", headers=grid),
            "create": lambda: client.post("/api/v1/tickets", json=BODY,
                                          headers={**resident, "Idempotency-Key": f"calls-{next(counter):08d}"}),
            "cast": lambda: client.post(f"/api/v1/votes/{vote_id}/cast", json={"option_id": option}, headers=resident),
        }
        for kind in kinds:
            for _ in range(WARM):
                requests[kind]()
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(N):
                answer = requests[kind]()
            profile.disable()
            assert answer.status_code in (200, 201), answer.json
            print(f"{kind}: {pstats.Stats(profile).total_calls // N:,} Python calls a request")
            if os.environ.get("CALLS_TOP"):
                pstats.Stats(profile).sort_stats("cumulative").print_stats(int(os.environ["CALLS_TOP"]))


def _open_vote(client, login, resident: dict, grid: dict) -> tuple[int, int]:
    """The resident's home confirmed in a compound, and an open vote there."""
    from datetime import datetime, timedelta, timezone

    import sqlalchemy as sa

    from server.extensions import db
    from server.units.models import Unit

    with client.application.app_context():
        compound = db.session.execute(sa.select(Unit.id).where(Unit.code == "gz-demo-hq-1-1")).scalar_one()
    claim = client.post("/api/v1/roll/claims", json={"unit_id": compound, "household": "1栋101"}, headers=resident).json
    client.post(f"/api/v1/roll/entries/{claim['id']}/review", json={"confirm": True}, headers=grid)
    cadre, now = login("cadre"), datetime.now(timezone.utc)
    vote = client.post("/api/v1/votes", headers=cadre, json={
        "unit_id": compound, "title": "calls", "options": ["同意", "不同意"],
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()}).json
    client.post(f"/api/v1/votes/{vote['id']}/open", json={}, headers=cadre)
    return vote["id"], vote["options"][0]["id"]


if __name__ == "__main__":
    main(sys.argv[1:] or ["get", "list", "create", "cast"])
