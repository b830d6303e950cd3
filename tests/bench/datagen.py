"""Bulk data for the benchmarks: residents, staff, tickets with their whole history
(events, photos, ratings), written with LOAD DATA LOCAL INFILE straight into the tables
the migrations built.

    .venv/bin/python tests/bench/datagen.py --tickets 1000000 [--database NAME] [--keep]

Without --database it creates `gongzhi_bench_<random>`, migrates it, seeds the demo
district, generates, prints the timings and drops it again (unless --keep).

The model of the district, stated so the figures can be judged:

* one steady flow of reports (REPORTS_PER_DAY, 500 a day), so 10,000 tickets are the
  district's last 20 days and 1,000,000 tickets its last 5.5 years: the two data sets
  differ only in how much history lies behind today, as they would in production;
* places: 85% around 80 hot spots (markets, schools, old compounds; ~120 m spread), the
  rest anywhere in the district, 0.3% just outside it (the triage queue); routed to a unit
  by the same rule as `reporting.route` (deepest unit of the category's handler kind);
* categories weighted as a 12345 line sees them (sanitation, parking, noise, streetlights
  most often);
* each ticket lives its lifecycle: respond, assign, progress, resolve (with a photo),
  then a rating (70%; 5% dissatisfied, which reopens it once) or closing unrated after
  the rating window; 4% returned, 1% withdrawn; response and resolution times scaled to
  the category's time limits, a few percent late (overdue, escalated to the unit above);
  the status today is what has happened by today, so only the recent tickets are open;
* reporters of tickets closed more than a year ago are erased (the retention rule).

Notifications of past events are not generated (the outbox is drained in production).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pymysql

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

REPORTS_PER_DAY = 500
HOTSPOTS = 80
DAY = 86400.0
HOUR = 3600.0
CHUNK = 100_000  # tickets per LOAD DATA batch
RATING_WINDOW_DAYS = 7
RETENTION_DAYS = 365
# One key for every benchmark run: the generated phones are encrypted with it, and the
# server under test is started with it.
FIELD_KEY = "Z29uZ3poaS1iZW5jaC1maWVsZC1rZXktMzJieXRlcyE="
# As deployed, the service shares state between its workers in Redis (the signed-in user's
# cache, auth/viewer_cache.py; rate limits are off in the benchmark).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

# code -> weight (share of reports)
CATEGORY_WEIGHTS = {
    "sanitation": 18, "parking": 14, "noise": 11, "streetlight": 10, "road_damage": 8,
    "property_management": 9, "greenery": 6, "water_supply": 5, "illegal_construction": 5,
    "safety_hazard": 4, "power_supply": 3, "elderly_care": 3, "gas_supply": 2, "heating": 2,
}
TEXTS = {
    "sanitation": ["{p}垃圾桶满了好几天没人清运，气味很大", "{p}有人乱倒建筑垃圾，堆了一大堆", "{p}绿化带里全是白色垃圾"],
    "parking": ["{p}消防通道被私家车长期占用", "{p}电动车乱停乱放，堵住了单元门口", "{p}有僵尸车停了半年没人管"],
    "noise": ["{p}晚上十一点以后还有广场舞音响，影响休息", "{p}工地夜间施工噪音很大", "{p}楼上装修每天早上七点就开始电钻"],
    "streetlight": ["{p}的路灯坏了三盏，晚上很黑，老人出门不安全", "{p}路灯白天一直亮着，浪费电", "{p}路灯杆歪了，有倒下的危险"],
    "road_damage": ["{p}路面塌陷了一个坑，电动车容易摔倒", "{p}人行道地砖松动翘起", "{p}井盖破损，晚上看不清"],
    "property_management": ["{p}电梯经常停运，物业不及时维修", "{p}楼道灯坏了很久物业不管", "{p}小区门禁坏了外人随便进出"],
    "greenery": ["{p}的树枝太长挡住了窗户和路灯", "{p}绿地被人私自开垦种菜", "{p}有一棵枯树随时可能倒下"],
    "water_supply": ["{p}今天一早停水，没有任何通知", "{p}自来水发黄有异味", "{p}水管爆了，路面在冒水"],
    "illegal_construction": ["{p}一楼住户私自扩建院子", "{p}楼顶有人在搭建彩钢板房", "{p}占用公共绿地搭建棚子"],
    "safety_hazard": ["{p}电动车在楼道里充电，有火灾隐患", "{p}广告牌松动，刮风时摇晃", "{p}围墙出现裂缝，有倒塌危险"],
    "power_supply": ["{p}整栋楼停电两个小时了", "{p}电线老化裸露，下雨天有打火", "{p}电表箱门坏了没有锁"],
    "elderly_care": ["{p}独居老人好几天没出门，请社区去看看", "{p}老年食堂的饭菜价格上涨，希望调整", "{p}楼道里需要加装扶手"],
    "gas_supply": ["{p}闻到燃气味道，请尽快检查", "{p}燃气表数字不走", "{p}燃气管道外壁锈蚀严重"],
    "heating": ["{p}暖气不热，室温只有十五度", "{p}暖气管道漏水", "{p}供暖费收费标准有疑问"],
}
PLACES = ["{c}{b}栋楼下", "{c}东门", "{c}西门口", "{c}{b}栋和{b2}栋之间", "{c}北侧的小路上", "{c}停车场", "{c}菜市场旁边"]
NOTES = {
    "accept": "已受理，正在安排处理", "progress": "已联系相关部门，正在处理中", "resolve": "已处理完毕，现场已恢复正常",
    "return": "经核实不属于本单位职责，请向相关部门反映", "withdraw": "问题已自行解决", "close": "评价期已过，未评价",
    "escalate": "已超过时限，转上级督办",
}
RETURN_REASONS = ["out_of_scope", "duplicate", "needs_info", "invalid"]
RATING_COMMENTS = {"satisfied": "处理很及时，谢谢", "basically_satisfied": "基本解决了", "dissatisfied": "问题没有真正解决"}

TICKET_COLUMNS = (
    "id", "category_id", "unit_id", "reporter_id", "anonymous", "description", "lat", "lng", "address", "status",
    "triage", "held", "hidden", "assignee_id", "priority", "respond_by", "resolve_by", "responded_at", "resolved_at",
    "closed_at", "overdue", "supervising_unit_id", "redo_count", "return_reason", "duplicate_of_id", "rating",
    "rating_comment", "supporters", "version", "created_at", "updated_at", "personal_data_erased_at",
)  # report_media is filled from the photos once they are loaded
EVENT_COLUMNS = ("id", "ticket_id", "action", "from_status", "to_status", "actor_id", "actor_role", "note", "public",
                 "data", "created_at")
MEDIA_COLUMNS = ("id", "owner_id", "key", "thumb_key", "content_type", "width", "height", "size", "sha256", "event_id",
                 "position", "created_at")
RATING_COLUMNS = ("ticket_id", "user_id", "by_reporter", "round", "rating", "comment", "created_at")
NULL = "\\N"


def connect(database: str | None = None, host="127.0.0.1", port=3306, user="root", password="") -> pymysql.Connection:
    return pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                           charset="utf8mb4", autocommit=True, local_infile=True)


def sql_url(database: str) -> str:
    return f"mysql+{os.environ.get('BENCH_DRIVER', 'pymysql')}://root@127.0.0.1:3306/{database}"


def app_env(database: str, **extra) -> dict:
    """The service's environment as deployed (deploy/gongzhi.env.example: MariaDB and Redis)."""
    return dict(os.environ, DATABASE_URL=sql_url(database), REDIS_URL=REDIS_URL, FLASK_APP="server.wsgi", APP_ENV="bench",
                DEV_LOGIN="1", FIELD_ENCRYPTION_KEYS=FIELD_KEY, SECRET_KEY="bench-" + "k" * 40, PYTHONPATH=ROOT, **extra)


def create_database(name: str) -> None:
    """A fresh database with the schema the migrations build and the demo district."""
    conn = connect()
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()
    env = app_env(name)
    flask = os.path.join(BIN, "flask")
    subprocess.run([flask, "db", "upgrade", "heads"], env=env, check=True, capture_output=True, cwd=ROOT)
    subprocess.run([flask, "seed-demo"], env=env, check=True, capture_output=True, cwd=ROOT)


def drop_database(name: str) -> None:
    conn = connect()
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


# --- the district as the database holds it ----------------------------------------------


@dataclass
class District:
    units: dict                      # id -> {kind, depth, parent_id, path, boundary, name, code}
    categories: dict                 # code -> {id, handler_kind, respond_hours, resolve_hours}
    staff: dict = field(default_factory=dict)   # unit id -> {"responders": [...], "taskers": [...]}
    root_id: int = 0
    box: tuple = (0.0, 0.0, 0.0, 0.0)  # min_lng, min_lat, max_lng, max_lat

    @classmethod
    def load(cls, cur) -> "District":
        cur.execute("SELECT id, code, name, kind, depth, parent_id, path, boundary FROM units")
        units = {r[0]: {"code": r[1], "name": r[2], "kind": r[3], "depth": r[4], "parent_id": r[5], "path": r[6],
                        "boundary": json.loads(r[7]) if r[7] else None} for r in cur.fetchall()}
        cur.execute("SELECT id, code, handler_kind, respond_hours, resolve_days, resolve_hours FROM categories WHERE active")
        cats = {r[1]: {"id": r[0], "handler_kind": r[2], "respond_hours": r[3],
                       "resolve_hours": r[5] if r[5] else r[4] * 24} for r in cur.fetchall()}
        root = min(u for u, v in units.items() if v["parent_id"] is None)
        xs, ys = [], []
        for unit in units.values():
            if unit["boundary"]:
                for x, y in unit["boundary"]["coordinates"][0]:
                    xs.append(x)
                    ys.append(y)
        return cls(units=units, categories=cats, root_id=root, box=(min(xs), min(ys), max(xs), max(ys)))

    def load_staff(self, cur) -> None:
        """Who answers (grid workers, cadres) and who assigns (cadres, heads) for each unit:
        the posts at the unit or above it, nearest first."""
        cur.execute("SELECT p.user_id, p.unit_id, p.role FROM staff_posts p")
        posts = cur.fetchall()
        for uid, unit in self.units.items():
            responders, taskers = [], []
            chain = [int(x) for x in unit["path"].strip("/").split("/")][::-1]
            for level in chain:
                for user_id, post_unit, role in posts:
                    if post_unit != level:
                        continue
                    if role in ("grid_worker", "cadre") and not responders:
                        responders.append((user_id, role))
                    elif role in ("grid_worker", "cadre"):
                        responders.append((user_id, role)) if len(responders) < 3 else None
                    if role in ("cadre", "unit_head") and len(taskers) < 3:
                        taskers.append((user_id, role))
            admin = [(u, r) for u, p, r in posts if r == "admin"]
            self.staff[uid] = {"responders": responders or admin, "taskers": taskers or admin}


def ensure_bench_staff(cur, district: District) -> None:
    """Staff for every street and community the demo seed leaves without (so every ticket
    has someone to answer and assign it): a grid worker and a cadre per community, a head
    per street. Dev users, idempotent."""
    now = _dt(np.array([time.time()]))[0]
    for uid, unit in sorted(district.units.items()):
        wanted = {"community": ["grid_worker", "cadre"], "street": ["unit_head", "cadre"]}.get(unit["kind"], [])
        for role in wanted:
            cur.execute("SELECT 1 FROM staff_posts WHERE unit_id=%s AND role=%s LIMIT 1", (uid, role))
            if cur.fetchone():
                continue
            openid = f"dev:bench-{role}-{uid}"
            cur.execute("INSERT IGNORE INTO users (openid, nickname, is_dev, created_at) VALUES (%s, %s, 1, %s)",
                        (openid, f"{unit['name']}{'网格员' if role == 'grid_worker' else '干部' if role == 'cadre' else '主任'}", now))
            cur.execute("SELECT id FROM users WHERE openid=%s", (openid,))
            user_id = cur.fetchone()[0]
            cur.execute("INSERT INTO staff_posts (user_id, unit_id, role, created_at) VALUES (%s, %s, %s, %s)",
                        (user_id, uid, role, now))
    district.load_staff(cur)


# --- helpers ------------------------------------------------------------------------------


def _dt(epoch: np.ndarray) -> np.ndarray:
    """Epoch seconds (float, NaN for none) -> 'YYYY-MM-DD HH:MM:SS.ffffff' strings (\\N for NaN), UTC."""
    epoch = np.asarray(epoch, dtype=float)
    nan = np.isnan(epoch)
    us = np.where(nan, 0, np.round(epoch * 1e6)).astype("int64").astype("datetime64[us]")
    out = np.char.replace(np.datetime_as_string(us, unit="us"), "T", " ").astype(object)
    out[nan] = NULL
    return out


def _int_or_null(values: np.ndarray) -> np.ndarray:
    """Integers as text, 0 (no row) as NULL."""
    out = values.astype("int64").astype(str).astype(object)
    out[values == 0] = NULL
    return out


def _write(path: str, columns: list) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines("\t".join(row) + "\n" for row in zip(*columns))


class Loader:
    """Formats in this thread while MariaDB loads the previous file on another connection."""

    def __init__(self, database: str, workdir: str):
        self.database, self.workdir = database, workdir
        self.jobs: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        conn = connect(self.database)
        cur = conn.cursor()
        cur.execute("SET SESSION foreign_key_checks=0, unique_checks=0")
        while True:
            job = self.jobs.get()
            if job is None:
                break
            path, table, columns = job
            try:
                if self.error is None:
                    start = time.perf_counter()
                    cur.execute(
                        f"LOAD DATA LOCAL INFILE %s INTO TABLE `{table}` CHARACTER SET utf8mb4 "
                        f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
                        f"({', '.join(f'`{c}`' for c in columns)})", (path,))
                    self.seconds += time.perf_counter() - start
                    cur.execute("SHOW WARNINGS LIMIT 3")
                    warnings = cur.fetchall()
                    if warnings:
                        raise RuntimeError(f"LOAD DATA into {table}: {warnings}")
            except BaseException as err:  # noqa: BLE001  (reported by close())
                self.error = err
            finally:
                os.unlink(path)
        conn.close()

    def put(self, table: str, columns: tuple, values: list) -> None:
        if self.error:
            raise self.error
        fd, path = tempfile.mkstemp(suffix=f"-{table}.tsv", dir=self.workdir)
        os.close(fd)
        _write(path, values)
        self.jobs.put((path, table, columns))

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join()
        if self.error:
            raise self.error


# --- users --------------------------------------------------------------------------------


def add_residents(database: str, count: int, prefix: str = "bench:res", phones: float = 0.4, seed: int = 7,
                  consent: str = "2026-11") -> list[int]:
    """`count` residents (openid `<prefix>-<n>`), 40% with a bound (encrypted) phone, all
    having agreed to the privacy policy. Returns their ids."""
    from cryptography.fernet import Fernet

    rng = np.random.default_rng(seed)
    fernet = Fernet(FIELD_KEY)
    conn = connect(database)
    cur = conn.cursor()
    cur.execute("SELECT COALESCE(MAX(id), 0) FROM users")
    first = cur.fetchone()[0] + 1
    ids = np.arange(first, first + count)
    created = time.time() - rng.random(count) * 3 * 365 * DAY
    with_phone = rng.random(count) < phones
    phone_enc = [fernet.encrypt(f"13{rng.integers(100000000, 999999999)}".encode()).decode() if p else NULL
                 for p in with_phone]
    tag = secrets.token_hex(3)
    with tempfile.TemporaryDirectory() as tmp:
        loader = Loader(database, tmp)
        loader.put("users", ("id", "openid", "nickname", "phone_enc", "is_dev", "created_at"),
                   [ids.astype(str).astype(object), [f"{prefix}-{tag}-{i}" for i in range(count)],
                    [f"居民{i % 9973}" for i in range(count)], phone_enc, ["0"] * count, _dt(created)])
        loader.put("consent_records", ("user_id", "policy_version", "accepted_at"),
                   [ids.astype(str).astype(object), [consent] * count, _dt(created + 60)])
        loader.close()
    conn.close()
    return ids.tolist()


# --- tickets ------------------------------------------------------------------------------


def _points(rng, district: District, n: int, hotspots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = district.box
    lat = np.empty(n)
    lng = np.empty(n)
    kind = rng.random(n)
    hot = kind < 0.85
    spot = rng.integers(0, len(hotspots), n)
    lat[hot] = hotspots[spot[hot], 1] + rng.normal(0, 120 / 111_320, hot.sum())
    lng[hot] = hotspots[spot[hot], 0] + rng.normal(0, 120 / 95_900, hot.sum())
    anywhere = ~hot
    lat[anywhere] = rng.uniform(y0, y1, anywhere.sum())
    lng[anywhere] = rng.uniform(x0, x1, anywhere.sum())
    outside = kind > 0.997  # just past the eastern edge: no boundary holds them (triage)
    lng[outside] = x1 + rng.uniform(0.001, 0.01, outside.sum())
    lat = np.clip(lat, y0 - 0.01, y1 + 0.01)
    lng[~outside] = np.clip(lng[~outside], x0 + 1e-6, x1 - 1e-6)
    return lat, lng


def hotspots(district: District, seed: int = 11) -> np.ndarray:
    """The district's hot spots (lng, lat): fixed by the seed, so the load asks where tickets are."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = district.box
    return np.column_stack([rng.uniform(x0 + 0.002, x1 - 0.002, HOTSPOTS), rng.uniform(y0 + 0.002, y1 - 0.002, HOTSPOTS)])


def query_points(district: District, n: int, seed: int = 13) -> list[tuple[float, float]]:
    """Where residents stand when they look for nearby reports: where reports are."""
    lat, lng = _points(np.random.default_rng(seed), district, n, hotspots(district))
    return list(zip(lat.round(6).tolist(), lng.round(6).tolist()))


def _route(district: District, lat: np.ndarray, lng: np.ndarray, cat_kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """reporting.route for many points: the deepest unit of the handler kind, else the deepest."""
    import shapely
    from shapely.geometry import shape

    n = len(lat)
    best = np.zeros(n, dtype="int64")
    best_depth = np.full(n, -1)
    handler = np.zeros(n, dtype="int64")
    handler_depth = np.full(n, -1)
    for uid, unit in district.units.items():
        if not unit["boundary"]:
            continue
        geom = shape(unit["boundary"])
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, lng, lat)
        deeper = inside & (unit["depth"] > best_depth)
        best[deeper], best_depth[deeper] = uid, unit["depth"]
        match = inside & (cat_kind == unit["kind"]) & (unit["depth"] > handler_depth)
        handler[match], handler_depth[match] = uid, unit["depth"]
    unit_id = np.where(handler > 0, handler, best)
    triage = unit_id == 0
    unit_id[triage] = district.root_id
    return unit_id, triage


def generate_tickets(database: str, district: District, count: int, *, reporters: list[int], end: float,
                     start: float | None = None, seed: int = 1, only_resolved: bool = False,
                     log=print) -> dict:
    """`count` tickets reported between start and end (evenly, REPORTS_PER_DAY by default),
    each with the history it would have by `end`; or, with only_resolved, tickets that
    have all just been answered and wait for their reporter's rating."""
    rng = np.random.default_rng(seed)
    t_gen = time.perf_counter()
    if start is None:
        start = end - count / REPORTS_PER_DAY * DAY
    conn = connect(database)
    cur = conn.cursor()
    cur.execute("SELECT COALESCE(MAX(id), 0) FROM tickets")
    first_id = cur.fetchone()[0] + 1
    cur.execute("SELECT COALESCE(MAX(id), 0) FROM ticket_events")
    next_event = cur.fetchone()[0] + 1
    cur.execute("SELECT COALESCE(MAX(id), 0) FROM media")
    next_media = cur.fetchone()[0] + 1
    conn.close()

    n = count
    ids = np.arange(first_id, first_id + n)
    created = np.sort(rng.uniform(start, end, n))
    codes = list(CATEGORY_WEIGHTS)
    weights = np.array([CATEGORY_WEIGHTS[c] for c in codes], dtype=float)
    cat_idx = rng.choice(len(codes), n, p=weights / weights.sum())
    cat_id = np.array([district.categories[c]["id"] for c in codes])[cat_idx]
    cat_kind = np.array([district.categories[c]["handler_kind"] for c in codes], dtype=object)[cat_idx]
    respond_h = np.array([district.categories[c]["respond_hours"] for c in codes], dtype=float)[cat_idx]
    resolve_h = np.array([district.categories[c]["resolve_hours"] for c in codes], dtype=float)[cat_idx]
    lat, lng = _points(rng, district, n, hotspots(district))
    unit_id, triage = _route(district, lat, lng, cat_kind)
    reporter = np.asarray(reporters)[rng.integers(0, len(reporters), n)]
    respond_by = created + respond_h * HOUR
    resolve_by = created + resolve_h * HOUR

    # The lifecycle, every stage's time (NaN: never happens).
    u = rng.random(n)
    returned = (u < 0.04) & ~np.bool_(only_resolved)
    withdrawn = (u >= 0.04) & (u < 0.05) & ~np.bool_(only_resolved)
    normal = ~returned & ~withdrawn
    t_withdraw = np.where(withdrawn, created + rng.exponential(0.5 * HOUR, n), np.nan)
    t_accept = created + respond_h * HOUR * rng.lognormal(math.log(0.3), 0.7, n)
    t_return = np.where(returned, t_accept, np.nan)
    t_accept = np.where(normal, t_accept, np.nan)
    assigned = normal & (rng.random(n) < 0.85)
    t_assign = np.where(assigned, t_accept + rng.exponential(0.05, n) * resolve_h * HOUR, np.nan)
    progressed = assigned & (rng.random(n) < 0.5)
    work = resolve_h * HOUR * rng.lognormal(math.log(0.4), 0.6, n)
    t_progress = np.where(progressed, t_assign + work * rng.uniform(0.2, 0.6, n), np.nan)
    t_resolve = np.where(normal, created + (t_accept - created) + work, np.nan)
    t_resolve = np.where(assigned, np.maximum(t_resolve, t_assign + 60), t_resolve)
    t_resolve = np.where(progressed, np.maximum(t_resolve, t_progress + 60), t_resolve)
    rated = normal & (rng.random(n) < 0.70)
    t_rate = np.where(rated, t_resolve + np.minimum(rng.exponential(1.5 * DAY, n), (RATING_WINDOW_DAYS - 0.1) * DAY), np.nan)
    r = rng.random(n)
    rating = np.where(r < 0.80, "satisfied", np.where(r < 0.95, "basically_satisfied", "dissatisfied")).astype(object)
    redo = rated & (rating == "dissatisfied")
    # A dissatisfied first rating reopens the ticket (redo); it is answered again and rated once more.
    t_redo = np.where(redo, t_rate, np.nan)
    t_resolve2 = np.where(redo, t_redo + work, np.nan)
    t_rate2 = np.where(redo, t_resolve2 + rng.exponential(1.0 * DAY, n), np.nan)
    rating2 = np.where(rng.random(n) < 0.5, "basically_satisfied", "dissatisfied").astype(object)
    t_close = np.where(normal & ~rated, t_resolve + RATING_WINDOW_DAYS * DAY + rng.uniform(0, HOUR, n), np.nan)
    late_respond = normal & (t_accept > respond_by) | returned & (t_return > respond_by)
    late_resolve = normal & ~late_respond & (t_resolve > resolve_by)
    t_escalate = np.where(late_respond, respond_by + 60, np.where(late_resolve, resolve_by + 60, np.nan))

    if only_resolved:
        # Everything up to the answer has happened, nothing after it.
        shift = end - rng.uniform(60, 20 * HOUR, n) - np.nanmax(np.vstack([t_resolve, t_escalate]), axis=0)
        for arr in (created, respond_by, resolve_by, t_accept, t_assign, t_progress, t_resolve, t_escalate):
            arr += shift
        t_rate[:] = t_redo[:] = t_resolve2[:] = t_rate2[:] = t_close[:] = np.nan
        rated[:] = redo[:] = False

    now = end
    seen = lambda t: ~np.isnan(t) & (t <= now)  # noqa: E731

    # Staff for each ticket: who answers it, who assigns it, who does the work.
    def pick(role_key):
        out_id = np.zeros(n, dtype="int64")
        out_role = np.empty(n, dtype=object)
        for uid in np.unique(unit_id):
            people = district.staff[int(uid)][role_key]
            mask = unit_id == uid
            choice = rng.integers(0, len(people), mask.sum())
            out_id[mask] = np.array([p[0] for p in people])[choice]
            out_role[mask] = np.array([p[1] for p in people], dtype=object)[choice]
        return out_id, out_role

    responder, responder_role = pick("responders")
    tasker, tasker_role = pick("taskers")
    assignee = responder.copy()
    parent_of = np.zeros(max(district.units) + 1, dtype="int64")
    for uid, unit in district.units.items():
        parent_of[uid] = unit["parent_id"] or uid
    reason = np.array(RETURN_REASONS, dtype=object)[rng.integers(0, len(RETURN_REASONS), n)]
    # The status an escalation happened in.
    esc_status = np.where(late_respond, "submitted", np.where(
        progressed & (t_progress <= resolve_by), "in_progress",
        np.where(assigned & (t_assign <= resolve_by), "assigned", "accepted"))).astype(object)
    no_one = np.zeros(n, dtype="int64")

    # Every kind of event, in lifecycle order: (happened by now, time, action, from, to, actor,
    # actor role, note, public, data(ticket indices) -> JSON texts).
    stages = [
        (seen(created), created, "report", None, "submitted", reporter, "reporter", "", True,
         lambda idx: [json.dumps({"triage": bool(triage[i]), "held": False}) for i in idx]),
        (seen(t_withdraw), t_withdraw, "withdraw", "submitted", "withdrawn", reporter, "reporter", NOTES["withdraw"], True, None),
        (seen(t_return), t_return, "return", "submitted", "returned", responder, responder_role, NOTES["return"], True,
         lambda idx: [f'{{"reason": "{reason[i]}"}}' for i in idx]),
        (seen(t_accept), t_accept, "accept", "submitted", "accepted", responder, responder_role, NOTES["accept"], True, None),
        (seen(t_escalate), t_escalate, "escalate", esc_status, None, no_one, "system", NOTES["escalate"], True,
         lambda idx: [json.dumps({"late": "respond" if late_respond[i] else "resolve",
                                  "supervising_unit": int(parent_of[unit_id[i]])}) for i in idx]),
        (seen(t_assign), t_assign, "assign", "accepted", "assigned", tasker, tasker_role, "", True,
         lambda idx: [json.dumps({"assignee": int(assignee[i]), "unit": int(unit_id[i]),
                                  "due_at": _iso(resolve_by[i]), "priority": "normal"}) for i in idx]),
        (seen(t_progress), t_progress, "progress", "assigned", "in_progress", assignee, "assignee", NOTES["progress"],
         False, None),
        (seen(t_resolve), t_resolve, "resolve",
         np.where(progressed, "in_progress", np.where(assigned, "assigned", "accepted")).astype(object), "resolved",
         np.where(assigned, assignee, responder), np.where(assigned, "assignee", responder_role).astype(object),
         NOTES["resolve"], True, None),
        (seen(t_redo), t_redo, "redo", "resolved", "assigned", reporter, "reporter", RATING_COMMENTS["dissatisfied"], True,
         lambda idx: ['{"rating": "dissatisfied", "redo": true}'] * len(idx)),
        (seen(t_rate) & ~redo, t_rate, "rate", "resolved", "closed", reporter, "reporter", "", True,
         lambda idx: [f'{{"rating": "{rating[i]}"}}' for i in idx]),
        (seen(t_resolve2), t_resolve2, "resolve", "assigned", "resolved", assignee, "assignee", NOTES["resolve"], True, None),
        (seen(t_rate2), t_rate2, "rate", "resolved", "closed", reporter, "reporter", "", True,
         lambda idx: [f'{{"rating": "{rating2[i]}"}}' for i in idx]),
        (seen(t_close), t_close, "close", "resolved", "closed", no_one, "system", NOTES["close"], True,
         lambda idx: ['{"unrated": true}'] * len(idx)),
    ]

    # The ticket today: the latest change of status that has happened (escalations keep it).
    status = np.full(n, "submitted", dtype=object)
    best_t = created.copy()
    last = created.copy()
    n_events = np.zeros(n, dtype="int64")
    for m, t, _action, _frm, to, *_ in stages:
        n_events += m
        last = np.where(m, np.fmax(last, t), last)
        if to is not None:
            later = m & (t >= best_t)
            status = np.where(later, to, status)
            best_t = np.where(later, t, best_t)
    open_now = np.isin(status, ["submitted", "accepted", "assigned", "in_progress"])
    overdue = seen(t_escalate)
    supervising = np.where(overdue, parent_of[unit_id], 0)
    rated_now = seen(t_rate) & ~redo
    final_rating = np.where(seen(t_rate2), rating2, np.where(rated_now, rating, None))
    closed_at = np.where(status == "withdrawn", t_withdraw, np.where(status == "returned", t_return, np.where(
        seen(t_rate2), t_rate2, np.where(rated_now, t_rate, np.where(seen(t_close), t_close, np.nan)))))
    resolved_at = np.where(seen(t_resolve2), t_resolve2, np.where(seen(t_resolve) & ~seen(t_redo), t_resolve, np.nan))
    responded_at = np.where(seen(t_accept), t_accept, np.where(seen(t_return), t_return, np.nan))
    erased = np.isin(status, ["closed", "returned", "withdrawn"]) & (closed_at < now - RETENTION_DAYS * DAY)
    erased_at = np.where(erased, closed_at + RETENTION_DAYS * DAY + HOUR, np.nan)
    reporter_out = np.where(erased, 0, reporter)
    anonymous = (rng.random(n) < 0.10) | erased
    held = rng.random(n) < 0.001
    redo_count = seen(t_redo).astype(int)
    dup = np.where(seen(t_return) & (reason == "duplicate") & (ids > first_id),
                   np.maximum(first_id, ids - rng.integers(1, 500, n)), 0)
    status_counts = {str(s_): int((status == s_).sum()) for s_ in np.unique(status)}

    # Text.
    comp_names = {uid: u["name"] for uid, u in district.units.items()}
    descriptions = np.empty(n, dtype=object)
    addresses = np.empty(n, dtype=object)
    b = rng.integers(1, 30, n)
    place_idx = rng.integers(0, len(PLACES), n)
    text_idx = rng.integers(0, 3, n)
    for i in range(n):
        place = PLACES[place_idx[i]].format(c=comp_names[int(unit_id[i])], b=b[i], b2=b[i] + 1)
        descriptions[i] = TEXTS[codes[cat_idx[i]]][text_idx[i]].format(p=place)
        addresses[i] = f"{comp_names[int(unit_id[i])]}{b[i]}栋"

    log(f"  simulated {n:,} tickets in {time.perf_counter() - t_gen:.1f} s; status now: {status_counts}")

    # Events, in time order (ids follow time as they would).
    ev_ticket, ev_time, ev_stage = [], [], []
    for k, (m, t, *_rest) in enumerate(stages):
        idx = np.nonzero(m)[0]
        ev_ticket.append(idx)
        ev_time.append(t[idx])
        ev_stage.append(np.full(len(idx), k))
    ev_ticket = np.concatenate(ev_ticket)
    ev_time = np.concatenate(ev_time)
    ev_stage = np.concatenate(ev_stage)
    ev_order = np.lexsort((ev_stage, ev_time))
    ev_ticket, ev_time, ev_stage = ev_ticket[ev_order], ev_time[ev_order], ev_stage[ev_order]
    n_ev = len(ev_ticket)
    ev_ids = np.arange(next_event, next_event + n_ev)

    # Photos: 65% of reports have 1 to 3, every answer has one.
    resolve_stages = [k for k, s in enumerate(stages) if s[2] == "resolve"]
    photos = np.zeros(n_ev, dtype="int64")
    is_report = ev_stage == 0  # stages[0] is the report
    pr = rng.random(n_ev)
    photos[is_report] = np.where(pr[is_report] < 0.45, 1, np.where(pr[is_report] < 0.60, 2, np.where(pr[is_report] < 0.65, 3, 0)))
    photos[np.isin(ev_stage, resolve_stages)] = 1

    loader_dir = tempfile.mkdtemp(prefix="gongzhi-bench-")
    loader = Loader(database, loader_dir)
    s = lambda a: a.astype("int64").astype(str).astype(object)  # noqa: E731
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        sl = slice(lo, hi)
        k = hi - lo
        loader.put("tickets", TICKET_COLUMNS, [
            s(ids[sl]), s(cat_id[sl]), s(unit_id[sl]), _int_or_null(reporter_out[sl]), s(anonymous[sl]),
            descriptions[sl], np.char.mod("%.7f", lat[sl]).astype(object), np.char.mod("%.7f", lng[sl]).astype(object),
            addresses[sl], status[sl], s(triage[sl]), s(held[sl]), ["0"] * k, _int_or_null(np.where(seen(t_assign[sl]), assignee[sl], 0)),
            np.where(rng.random(k) < 0.05, "urgent", "normal").astype(object), _dt(respond_by[sl]), _dt(resolve_by[sl]),
            _dt(responded_at[sl]), _dt(resolved_at[sl]), _dt(closed_at[sl]), s(overdue[sl]),
            _int_or_null(supervising[sl]), s(redo_count[sl]),
            np.where(seen(t_return[sl]), reason[sl], NULL).astype(object), _int_or_null(dup[sl]),
            np.where(final_rating[sl] == None, NULL, final_rating[sl]).astype(object),  # noqa: E711
            [RATING_COMMENTS.get(x, NULL) if x else NULL for x in final_rating[sl]], ["0"] * k,
            s(n_events[sl]), _dt(created[sl]), _dt(last[sl]), _dt(erased_at[sl]),
        ])
    # Events and their photos, by chunks of events.
    ev_chunk = CHUNK * 4
    m_id = next_media
    for lo in range(0, n_ev, ev_chunk):
        hi = min(n_ev, lo + ev_chunk)
        tk, tm, st = ev_ticket[lo:hi], ev_time[lo:hi], ev_stage[lo:hi]
        cols = {c: np.empty(hi - lo, dtype=object) for c in ("action", "from", "to", "actor", "role", "note", "public", "data")}
        for k, (_m, _t, action, frm, to, actor, role, note, public, data) in enumerate(stages):
            sel = np.nonzero(st == k)[0]
            if not len(sel):
                continue
            idx = tk[sel]
            cols["action"][sel] = action
            cols["from"][sel] = frm[idx] if isinstance(frm, np.ndarray) else (frm or NULL)
            cols["to"][sel] = to if to is not None else cols["from"][sel]
            cols["actor"][sel] = _int_or_null(actor[idx])
            cols["role"][sel] = role[idx] if isinstance(role, np.ndarray) else role
            cols["note"][sel] = note
            cols["public"][sel] = "1" if public else "0"
            cols["data"][sel] = data(idx) if data else "{}"
        eid = ev_ids[lo:hi]
        loader.put("ticket_events", EVENT_COLUMNS, [
            s(eid), s(ids[tk]), cols["action"], cols["from"], cols["to"], cols["actor"], cols["role"],
            cols["note"], cols["public"], cols["data"], _dt(tm)])
        p = photos[lo:hi]
        rows = np.repeat(np.arange(hi - lo), p)
        if len(rows):
            pos = np.concatenate([np.arange(c) for c in p[p > 0]])
            mids = np.arange(m_id, m_id + len(rows))
            m_id += len(rows)
            keys = [secrets.token_hex(16) for _ in range(len(rows))]
            loader.put("media", MEDIA_COLUMNS, [
                s(mids), cols["actor"][rows], [f"2026/{k[:2]}/{k}.jpg" for k in keys],
                [f"2026/{k[:2]}/{k}_t.jpg" for k in keys], ["image/jpeg"] * len(rows), ["1280"] * len(rows),
                ["960"] * len(rows), s(rng.integers(80_000, 400_000, len(rows))), [k + k for k in keys],
                s(eid[rows]), s(pos), _dt(tm[rows])])
    # The reporters' ratings.
    rr = np.nonzero(seen(t_rate))[0]
    r2 = np.nonzero(seen(t_rate2))[0]
    if len(rr) or len(r2):
        loader.put("ticket_ratings", RATING_COLUMNS, [
            np.concatenate([s(ids[rr]), s(ids[r2])]),
            np.concatenate([s(reporter[rr]), s(reporter[r2])]),
            ["1"] * (len(rr) + len(r2)), ["0"] * len(rr) + ["1"] * len(r2),
            np.concatenate([rating[rr], rating2[r2]]),
            [RATING_COMMENTS[x] for x in rating[rr]] + [RATING_COMMENTS[x] for x in rating2[r2]],
            np.concatenate([_dt(t_rate[rr]), _dt(t_rate2[r2])])])
    loader.close()
    os.rmdir(loader_dir)
    # The report's photos on each ticket row, as the service writes them with a report.
    conn = connect(database)
    conn.cursor().execute(
        "UPDATE tickets t JOIN (SELECT e.ticket_id, JSON_ARRAYAGG(JSON_OBJECT('id', m.id, 'key', m.`key`, "
        "'thumb_key', m.thumb_key) ORDER BY m.position) AS photos FROM ticket_events e JOIN media m ON m.event_id = e.id "
        "WHERE e.action = 'report' AND e.ticket_id BETWEEN %s AND %s GROUP BY e.ticket_id) p ON p.ticket_id = t.id "
        "SET t.report_media = p.photos", (int(ids[0]), int(ids[-1])))
    conn.close()
    return {"tickets": n, "events": n_ev, "media": int(photos.sum()), "ratings": int(len(rr) + len(r2)),
            "open": int(open_now.sum()), "status": status_counts, "first_id": int(first_id), "last_id": int(ids[-1]),
            "seconds": time.perf_counter() - t_gen, "load_seconds": loader.seconds,
            "ids": ids, "reporter": reporter_out, "held": held, "status_array": status}


def _iso(epoch: float) -> str:
    return str(np.datetime64(int(epoch * 1e6), "us")) + "+00:00"


def analyze(database: str) -> None:
    conn = connect(database)
    cur = conn.cursor()
    for table in ("users", "tickets", "ticket_events", "media", "ticket_ratings", "consent_records", "staff_posts"):
        cur.execute(f"ANALYZE TABLE `{table}`")
        cur.fetchall()
    conn.close()


def populate(database: str, tickets: int, *, seed: int = 1, log=print) -> dict:
    """Residents, staff and `tickets` tickets of history ending now, in an empty seeded database."""
    start = time.perf_counter()
    conn = connect(database)
    cur = conn.cursor()
    district = District.load(cur)
    ensure_bench_staff(cur, district)
    conn.close()
    residents = add_residents(database, max(1000, tickets // 20), seed=seed)
    log(f"  {len(residents):,} residents in {time.perf_counter() - start:.1f} s")
    info = generate_tickets(database, district, tickets, reporters=residents, end=time.time(), seed=seed, log=log)
    t = time.perf_counter()
    analyze(database)
    info["analyze_seconds"] = time.perf_counter() - t
    info["total_seconds"] = time.perf_counter() - start
    info["district"] = district
    info["residents"] = residents
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--database", help="an existing migrated and seeded database (default: a fresh one)")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    name = args.database or f"gongzhi_bench_{secrets.token_hex(4)}"
    if not args.database:
        t = time.perf_counter()
        create_database(name)
        print(f"database {name}: migrated and seeded in {time.perf_counter() - t:.1f} s", flush=True)
    try:
        info = populate(name, args.tickets, seed=args.seed, log=lambda m: print(m, flush=True))
        print(f"{info['tickets']:,} tickets, {info['events']:,} events, {info['media']:,} photos, "
              f"{info['ratings']:,} ratings; {info['open']:,} open now")
        print(f"generated in {info['total_seconds']:.1f} s (LOAD DATA busy {info['load_seconds']:.1f} s, "
              f"ANALYZE {info['analyze_seconds']:.1f} s)")
    finally:
        if not args.database and not args.keep:
            drop_database(name)
        elif not args.database:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()
