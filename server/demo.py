"""The demo district: a four-level tree with boundaries, the 12345 categories, dev staff."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .auth.actor import Actor
from .auth.console import set_credentials
from .auth.models import Role, User
from .auth.operations import grant_post
from .categories.models import Category
from .extensions import db
from .timeutil import utcnow
from .topics import operations as topic_ops
from .topics.models import Topic
from .units.models import Unit
from .units.operations import import_units

# (code, name, icon, handler kind, respond hours, resolve days, resolve hours)
CATEGORIES = [
    ("safety_hazard", "安全隐患", "warning", "community", 1, 1, 2),
    ("water_supply", "供水停水", "water", "street", 2, 1, 24),
    ("power_supply", "供电故障", "power", "street", 2, 1, 24),
    ("gas_supply", "燃气问题", "gas", "street", 2, 1, 24),
    ("heating", "供暖问题", "heating", "street", 2, 1, 24),
    ("streetlight", "路灯损坏", "streetlight", "community", 24, 7, None),
    ("road_damage", "道路破损", "road", "street", 24, 7, None),
    ("sanitation", "环境卫生", "garbage", "community", 24, 7, None),
    ("greenery", "绿化养护", "tree", "community", 24, 7, None),
    ("noise", "噪音扰民", "noise", "community", 24, 7, None),
    ("parking", "停车秩序", "parking", "compound", 24, 7, None),
    ("property_management", "物业管理", "building", "compound", 24, 15, None),
    ("illegal_construction", "违章搭建", "construction", "street", 24, 15, None),
    ("elderly_care", "养老助残", "care", "community", 24, 15, None),
]

# Box of the district (WGS-84), split in halves at each level below it.
_DISTRICT = ("gz-demo", "共治示范区", "district", (114.26, 30.56, 114.34, 30.62))
_STREETS = [("花桥街道", "hq"), ("民意街道", "my")]
_COMMUNITIES = {"hq": ["花桥社区", "桃源社区"], "my": ["民意社区", "新村社区"]}
_COMPOUNDS = ["一区", "二区"]

DEMO_STAFF = [
    # dev login name, nickname, unit code, role
    ("grid", "网格员小王", "gz-demo-hq-1", Role.grid_worker),
    ("cadre", "社区干部李姐", "gz-demo-hq-1", Role.cadre),
    ("head", "街道主任张主任", "gz-demo-hq", Role.unit_head),
    ("deputy", "人大代表陈代表", "gz-demo-hq", Role.deputy),
    ("admin", "区管理员", "gz-demo", Role.admin),
]
DEMO_RESIDENTS = [("resident", "居民刘阿姨")]
# Office console sign-ins of the demo (README, "The office console"): dev login name,
# username, password, TOTP secret (base32; add it to an authenticator app, or run
# `python -c "import pyotp; print(pyotp.TOTP('<secret>').now())"`). Demo only: never in production.
DEMO_CONSOLE = [
    ("head", "street-head", "gongzhi-street-demo", "GONGZHIDEMOSTREETHEAD234"),
    ("admin", "district-admin", "gongzhi-admin-demo", "GONGZHIDEMODISTRICTADMIN"),
]


def _box(min_lng, min_lat, max_lng, max_lat):
    ring = [[min_lng, min_lat], [max_lng, min_lat], [max_lng, max_lat], [min_lng, max_lat], [min_lng, min_lat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _feature(code, name, kind, parent, box, responsibles=()):
    return {
        "type": "Feature",
        "geometry": _box(*box),
        "properties": {"code": code, "name": name, "kind": kind, "parent": parent,
                       "responsibles": [{"name": n, "title": t} for n, t in responsibles]},
    }


def demo_units() -> dict:
    code, name, kind, (x0, y0, x1, y1) = _DISTRICT
    features = [_feature(code, name, kind, None, (x0, y0, x1, y1), [("周区长", "县处级包联干部")])]
    xm = (x0 + x1) / 2
    for _s, ((sname, skey), (sx0, sx1)) in enumerate(zip(_STREETS, [(x0, xm), (xm, x1)])):
        scode = f"{code}-{skey}"
        features.append(_feature(scode, sname, "street", code, (sx0, y0, sx1, y1), [("吴科长", "科级包联干部")]))
        ym = (y0 + y1) / 2
        for c, (cname, (cy0, cy1)) in enumerate(zip(_COMMUNITIES[skey], [(y0, ym), (ym, y1)]), start=1):
            ccode = f"{scode}-{c}"
            features.append(_feature(ccode, cname, "community", scode, (sx0, cy0, sx1, cy1), [("郑书记", "社区书记")]))
            sxm = (sx0 + sx1) / 2
            for k, (kname, (kx0, kx1)) in enumerate(zip(_COMPOUNDS, [(sx0, sxm), (sxm, sx1)]), start=1):
                features.append(_feature(f"{ccode}-{k}", f"{cname}{kname}", "compound", ccode,
                                         (kx0, cy0, kx1, cy1), [("楼栋长老孙", "楼栋长")]))
    return {"type": "FeatureCollection", "features": features}


def seed_demo() -> dict:
    """Create or refresh the demo district; safe to run again."""
    units = import_units(demo_units())
    for i, (code, name, icon, kind, respond_h, resolve_d, resolve_h) in enumerate(CATEGORIES):
        cat = db.session.execute(sa.select(Category).where(Category.code == code)).scalar_one_or_none()
        if cat is None:
            cat = Category(code=code)
            db.session.add(cat)
        cat.name, cat.icon, cat.handler_kind = name, icon, kind
        cat.respond_hours, cat.resolve_days, cat.resolve_hours = respond_h, resolve_d, resolve_h
        cat.sort_order, cat.active = i, True
    for login, nickname in DEMO_RESIDENTS + [(s[0], s[1]) for s in DEMO_STAFF]:
        openid = f"dev:{login}"
        user = db.session.execute(sa.select(User).where(User.openid == openid)).scalar_one_or_none()
        if user is None:
            db.session.add(User(openid=openid, nickname=nickname, is_dev=True))
    db.session.flush()
    for login, _, unit_code, role in DEMO_STAFF:
        grant_post(f"dev:{login}", unit_code, role.value)
    for login, username, password, secret in DEMO_CONSOLE:
        user = db.session.execute(sa.select(User).where(User.openid == f"dev:{login}")).scalar_one()
        set_credentials(user, username, password, totp_secret=secret)
    db.session.flush()
    topics = _demo_topic()
    return {"units": len(units), "categories": len(CATEGORIES), "staff": len(DEMO_STAFF),
            "console_accounts": len(DEMO_CONSOLE), "topics": topics}


DEMO_TOPIC = ("3号楼前的空地改成停车位还是小花园", "空地荒了两年。请居民说说怎么用，征求意见后提交议事会商议。")


def _demo_topic() -> int:
    """One topic of 花桥社区 open for opinions, so the topic pages show something (once)."""
    unit = db.session.execute(sa.select(Unit).where(Unit.code == "gz-demo-hq-1")).scalar_one()
    if db.session.execute(sa.select(Topic.id).where(Topic.unit_id == unit.id).limit(1)).first() is not None:
        return 0
    cadre = Actor.of_user(db.session.execute(sa.select(User).where(User.openid == "dev:cadre")).scalar_one())
    topic = topic_ops.create(cadre, unit.id, *DEMO_TOPIC)
    topic_ops.solicit(topic, cadre, utcnow() + timedelta(days=7), note=DEMO_TOPIC[1])
    return 1
