"""Units and categories as requests show them, kept per process.

Every ticket a request shows names its category and its unit (with the unit's responsible
people), and every permission check reads the path of the viewer's units. These rows change
a few times a year, so each process keeps what it has read of them, instead of joining them
into every ticket query: an entry is read again after UNIT_LOCATOR_TTL_SECONDS (a change
made by another process, the CLI included, shows within that time), and a change this
process makes drops everything at once (mapper events).

Units are loaded on demand, the ones a request needs in one query; categories (a few
dozen) all at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa

from .cache import ProcessCache
from .categories.models import Category
from .extensions import db
from .units.models import Unit, UnitResponsible

MAX_UNITS = 200_000  # far more than a province holds; past it the cache starts over


@dataclass(frozen=True, slots=True)
class Responsible:
    name: str
    title: str
    user_id: int | None


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """What requests read of a unit: the shown fields, its place in the tree, its people."""

    id: int
    code: str
    name: str
    kind: str
    path: str
    depth: int
    responsibles: tuple[Responsible, ...]


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    """A category: what tickets show of it, who handles it, its time limits (12345 practice)."""

    id: int
    code: str
    name: str
    icon: str
    handler_kind: str | None
    respond_hours: int
    resolve_days: int
    resolve_hours: int | None
    active: bool


_units = Unit.__table__
_people = UnitResponsible.__table__
_categories = Category.__table__

_UNITS_BY_ID = (
    sa.select(_units.c.id, _units.c.code, _units.c.name, _units.c.kind, _units.c.path, _units.c.depth,
              _people.c.name.label("person"), _people.c.title, _people.c.user_id)
    .outerjoin(_people, _people.c.unit_id == _units.c.id)
    .where(_units.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_units.c.id, _people.c.id)
)
_ALL_CATEGORIES = sa.select(_categories.c.id, _categories.c.code, _categories.c.name, _categories.c.icon,
                            _categories.c.handler_kind, _categories.c.respond_hours, _categories.c.resolve_days,
                            _categories.c.resolve_hours, _categories.c.active)


_units_kept = ProcessCache("units", watch=(Unit, UnitResponsible), max_entries=MAX_UNITS)
_categories_kept = ProcessCache("categories", watch=(Category,))


def _load_units(ids: list[int]) -> dict[int, UnitInfo]:
    loaded: dict[int, list] = {}
    for row in db.session.connection().execute(_UNITS_BY_ID, {"ids": ids}):
        entry = loaded.setdefault(row.id, [row, []])
        if row.person is not None:
            entry[1].append(Responsible(row.person, row.title or "", row.user_id))
    return {unit_id: UnitInfo(row.id, row.code, row.name, row.kind, row.path, row.depth, tuple(people))
            for unit_id, (row, people) in loaded.items()}


def units(ids: Iterable[int]) -> dict[int, UnitInfo]:
    """The units with these ids (unknown ids are left out), in at most one query."""
    return _units_kept.get_many(ids, _load_units)


def unit(unit_id: int) -> UnitInfo | None:
    return units((unit_id,)).get(unit_id)


def _load_categories() -> dict[int, CategoryInfo]:
    return {row.id: CategoryInfo(row.id, row.code, row.name, row.icon or "", row.handler_kind, row.respond_hours,
                                 row.resolve_days, row.resolve_hours, bool(row.active))
            for row in db.session.connection().execute(_ALL_CATEGORIES)}


def categories() -> dict[int, CategoryInfo]:
    """Every category by id."""
    return _categories_kept.get("all", _load_categories)


def active_category(code: str) -> CategoryInfo | None:
    """The category a report may be filed under, by its code."""
    return next((c for c in categories().values() if c.code == code and c.active), None)
