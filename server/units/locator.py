"""Which unit contains a point: a shapely STRtree over every boundary, built once per
process and rebuilt when the units table changes (count or latest update).

Whether it changed is asked at most every UNIT_LOCATOR_TTL_SECONDS (one query saved on
every report); a change this process makes to a unit drops the tree at once."""
from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa
from flask import current_app
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import event
from sqlalchemy.orm import undefer

from ..extensions import db
from .models import Unit

_lock = threading.Lock()


class UnitLocator:
    def __init__(self, rows):
        self.ids: list[int] = []
        self.depths: list[int] = []
        geoms, self.prepared = [], []
        for unit_id, depth, boundary in rows:
            geom = shape(json.loads(boundary))
            self.ids.append(unit_id)
            self.depths.append(depth)
            geoms.append(geom)
            self.prepared.append(prep(geom))
        self.tree = STRtree(geoms) if geoms else None

    def containing(self, lat: float, lng: float) -> list[int]:
        """Ids of every unit whose boundary covers the point, deepest first."""
        if self.tree is None:
            return []
        point = Point(lng, lat)
        hits = [int(i) for i in self.tree.query(point) if self.prepared[int(i)].covers(point)]
        hits.sort(key=lambda i: -self.depths[i])
        return [self.ids[i] for i in hits]


def _stamp():
    return tuple(db.session.execute(sa.select(sa.func.count(Unit.id), sa.func.max(Unit.updated_at))).one())


def get_locator() -> UnitLocator:
    cached = current_app.extensions.get("gongzhi.locator")
    now = time.monotonic()
    if cached and now - cached[2] < current_app.config["UNIT_LOCATOR_TTL_SECONDS"]:
        return cached[1]
    stamp = _stamp()
    if cached and cached[0] == stamp:
        current_app.extensions["gongzhi.locator"] = (stamp, cached[1], now)
        return cached[1]
    with _lock:
        rows = db.session.execute(
            sa.select(Unit.id, Unit.depth, Unit.boundary).where(Unit.boundary.is_not(None))
        ).all()
        locator = UnitLocator(rows)
        current_app.extensions["gongzhi.locator"] = (stamp, locator, now)
    return locator


def subtree_ids(paths: list[str]) -> list[int]:
    """Ids of the units at or below these materialised paths (a staff member's scope), kept
    per process like the locator: asked again after UNIT_LOCATOR_TTL_SECONDS, at once after a
    change this process makes. Every staff list filters on them."""
    cache = current_app.extensions.setdefault("gongzhi.subtrees", {})
    key = tuple(sorted(paths))
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[1] < current_app.config["UNIT_LOCATOR_TTL_SECONDS"]:
        return hit[0]
    ids = db.session.execute(
        sa.select(Unit.id).where(sa.or_(*[Unit.path.startswith(p, autoescape=True) for p in key]))
    ).scalars().all() if key else []
    if len(cache) > 10_000:  # one entry per distinct scope; a province has far fewer
        cache.clear()
    cache[key] = (ids, now)
    return ids


def forget() -> None:
    """Rebuild on next use (a unit changed in this process)."""
    from .. import directory

    current_app.extensions.pop("gongzhi.locator", None)
    current_app.extensions.pop("gongzhi.subtrees", None)
    directory.forget()


@event.listens_for(Unit, "after_insert")
@event.listens_for(Unit, "after_update")
@event.listens_for(Unit, "after_delete")
def _unit_changed(_mapper, _connection, _target) -> None:
    forget()


def locate(lat: float, lng: float) -> Unit | None:
    """The deepest unit containing a WGS-84 point, or None outside every boundary."""
    ids = get_locator().containing(lat, lng)
    return db.session.get(Unit, ids[0], options=[undefer(Unit.boundary)]) if ids else None
