"""A year of the demo district's tickets and its frozen monthly report cards, for the
browser tests (and the README's screenshot): `python -m tests.browser.history` with the
service's environment, after `flask seed-demo`. Prints the ids the tests act on as JSON.

Tickets are inserted with explicit timestamps as the operations would have left them (as
tests/integration/test_stats_fixtures.py does); the monthly report cards are then frozen by
stats.operations.monthly, the ticket to assign is accepted through the operation itself.
"""
from __future__ import annotations

import json
import random
from datetime import timedelta

import sqlalchemy as sa

from server import create_app
from server.auth.actor import Actor
from server.auth.models import User
from server.demo import demo_units
from server.extensions import db
from server.stats import operations as stats
from server.stats.periods import month_of
from server.tickets import operations
from server.tickets.models import Ticket
from server.timeutil import utcnow
from tests.integration.test_stats_fixtures import add_ticket

H, D = timedelta(hours=1), timedelta(days=1)
CATEGORIES = ["streetlight", "road_damage", "sanitation", "noise", "parking", "greenery"]
WORDS = {"streetlight": "路灯不亮，夜间出行不便", "road_damage": "人行道地砖破损", "sanitation": "垃圾桶满溢无人清理",
         "noise": "夜间施工噪音扰民", "parking": "消防通道被占用停车", "greenery": "绿化带树枝遮挡路灯"}


def _boxes() -> dict[str, tuple[float, float, float, float]]:
    """Each compound's box (min_lng, min_lat, max_lng, max_lat), from the demo's boundaries."""
    boxes = {}
    for feature in demo_units()["features"]:
        if feature["properties"]["kind"] == "compound":
            ring = feature["geometry"]["coordinates"][0]
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            boxes[feature["properties"]["code"]] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def _place(rng: random.Random, box) -> dict:
    x0, y0, x1, y1 = box
    pad_x, pad_y = (x1 - x0) * 0.15, (y1 - y0) * 0.15
    return {"lng": round(rng.uniform(x0 + pad_x, x1 - pad_x), 6), "lat": round(rng.uniform(y0 + pad_y, y1 - pad_y), 6)}


def build(seed: int = 23) -> dict:
    rng = random.Random(seed)
    now = utcnow()
    this_month = month_of(now)
    months = [this_month]
    for _ in range(12):
        months.insert(0, months[0].previous())
    boxes = _boxes()
    for month in months[:-1]:
        start = month.start()
        for code, box in boxes.items():
            for _ in range(rng.randint(3, 6)):
                created = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(1, 20))
                category = rng.choice(CATEGORIES)
                late = rng.random() < 0.2
                rating = rng.choices(["satisfied", "basically_satisfied", "dissatisfied", None], [6, 2, 1, 1])[0]
                add_ticket(code, created, category, description=WORDS[category], **_place(rng, box),
                           status="closed", responded_at=created + (30 * H if late else 3 * H),
                           resolved_at=created + (9 * D if late else 2 * D), closed_at=created + 10 * D, rating=rating)
    # This month: open tickets, some past their time limit and supervised by the unit above.
    for code, box in boxes.items():
        community = code.rsplit("-", 1)[0]
        for i in range(3):
            created = now - timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 20))
            category = rng.choice(CATEGORIES)
            overdue = i == 0
            status = rng.choice(["accepted", "assigned", "in_progress"])
            add_ticket(code, created, category, description=WORDS[category], **_place(rng, box), status=status,
                       responded_at=created + 2 * H, overdue=overdue,
                       resolve_by=created + (D if overdue else 20 * D),
                       supervising_unit_id=_unit_id(community.rsplit("-", 1)[0]) if overdue else None)
    db.session.flush()
    for month in months[:-1]:
        stats.monthly(str(month), now=month.next().start() + D)
    stats.bulletin(f"{months[-3]}..{months[-2]}", now=now)
    # The ticket the browser test assigns: reported in 花桥社区 and accepted by its grid worker.
    grid = db.session.execute(sa.select(User).where(User.openid == "dev:grid")).scalar_one()
    fresh = add_ticket("gz-demo-hq-1", now - 2 * H, "streetlight", description="浏览器测试：楼下路灯不亮，待派单",
                       lat=30.575, lng=114.275)
    outside = add_ticket("gz-demo-my-1", now - 3 * H, "noise", description="民意社区的问题（不在花桥街道）",
                         lat=30.575, lng=114.315)
    db.session.flush()
    operations.accept(fresh, Actor.of_user(grid), note="已受理")
    db.session.commit()
    return {"to_assign": fresh.id, "outside": outside.id,
            "tickets": db.session.execute(sa.select(sa.func.count()).select_from(Ticket)).scalar_one()}


def _unit_id(code: str) -> int:
    from server.units.models import Unit

    return db.session.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


if __name__ == "__main__":
    from server.cache import forget_all
    from server.demo import seed_demo
    from tests.conftest import _empty_tables

    with create_app().app_context():
        _empty_tables()  # a database the suite shares (TEST_DATABASE_URL) starts clean
        forget_all()
        seed_demo()
        db.session.commit()
        print(json.dumps(build()))
