"""The read side of the unit tree."""
from __future__ import annotations

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from .models import Unit


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
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
