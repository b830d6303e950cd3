"""The read side of the unit tree."""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.orm import undefer

from ..auth.models import ROLE_LABELS, StaffPost, User
from ..errors import NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from .models import Unit
from .scope import require_staff


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id, options=[undefer(Unit.boundary)])
    if unit is None:
        raise NotFound("单位不存在", key="unit_not_found")
    return unit


def ancestors(unit: Unit) -> list[Unit]:
    ids = unit.ancestor_ids
    if not ids:
        return []
    found = {u.id: u for u in db.session.execute(sa.select(Unit).where(Unit.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]


def list_units(parent_id=None, kind=None, limit=50, cursor=None) -> dict:
    query = sa.select(Unit).order_by(Unit.id).limit(limit + 1)
    if parent_id is not None:
        query = query.where(Unit.parent_id == parent_id)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Unit.id > after[0])
    return page(db.session.execute(query).scalars().all(), limit, lambda u: [u.id])


def subtree_ids(unit: Unit) -> sa.Select:
    """A subquery of the ids of the unit and every unit below it."""
    return sa.select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))


def staff_of(unit: Unit, viewer) -> list[dict]:
    """Everyone holding a post at the unit or below it; only for staff whose posts reach the unit."""
    require_staff(viewer, unit, detail="只有本单位的工作人员可以查看")
    rows = db.session.execute(
        sa.select(StaffPost, User, Unit).join(User, User.id == StaffPost.user_id).join(Unit, Unit.id == StaffPost.unit_id)
        .where(Unit.path.startswith(unit.path, autoescape=True)).order_by(Unit.depth, Unit.id, StaffPost.role, User.id)
    ).all()
    return [{"id": user.id, "display": user.nickname or "工作人员", "role": post.role.value,
             "role_label": ROLE_LABELS[post.role], "unit": where} for post, user, where in rows]


def boundaries(unit: Unit, levels: int = 2) -> list[dict]:
    """The unit and the units up to `levels` below it that have a boundary, as GeoJSON
    features (WGS-84), for a map: one prefix read on the path index."""
    rows = db.session.execute(
        sa.select(Unit.id, Unit.name, Unit.kind, Unit.depth, Unit.boundary)
        .where(Unit.path.startswith(unit.path, autoescape=True), Unit.depth <= unit.depth + levels,
               Unit.boundary.is_not(None)).order_by(Unit.depth, Unit.code)).all()
    return [{"type": "Feature", "geometry": json.loads(row.boundary),
             "properties": {"id": row.id, "name": row.name, "kind": row.kind, "level": row.depth - unit.depth}}
            for row in rows]
