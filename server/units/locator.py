"""Which unit contains a point: a shapely STRtree over every boundary, built once per
process and rebuilt when the units table changes (count or latest update).

Whether it changed is asked at most every UNIT_LOCATOR_TTL_SECONDS (one query saved on
every report); a change this process makes to a unit drops the tree at once."""
from __future__ import annotations

import json

import sqlalchemy as sa
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy.orm import undefer

from ..cache import ProcessCache
from ..extensions import db
from .models import Unit


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


_trees = ProcessCache("unit_locator", watch=(Unit,), ttl_setting=None, max_entries=1)  # by stamp: the latest
_checked = ProcessCache("unit_locator_checked", watch=(Unit,))
_subtrees = ProcessCache("unit_subtrees", watch=(Unit,), max_entries=10_000)


def _build() -> UnitLocator:
    rows = db.session.execute(sa.select(Unit.id, Unit.depth, Unit.boundary).where(Unit.boundary.is_not(None))).all()
    return UnitLocator(rows)


def get_locator() -> UnitLocator:
    """The tree, built again when the units table changed (its count or latest update);
    whether it did is asked at most every UNIT_LOCATOR_TTL_SECONDS."""
    stamp = _checked.get("stamp", _stamp)
    return _trees.get(stamp, _build)


def subtree_ids(paths: list[str]) -> list[int]:
    """Ids of the units at or below these materialised paths (a staff member's scope), kept
    like the locator. Every staff list filters on them."""
    key = tuple(sorted(paths))
    if not key:
        return []
    return _subtrees.get(key, lambda: db.session.execute(
        sa.select(Unit.id).where(sa.or_(*[Unit.path.startswith(p, autoescape=True) for p in key]))).scalars().all())


def locate(lat: float, lng: float) -> Unit | None:
    """The deepest unit containing a WGS-84 point, or None outside every boundary."""
    ids = get_locator().containing(lat, lng)
    return db.session.get(Unit, ids[0], options=[undefer(Unit.boundary)]) if ids else None
