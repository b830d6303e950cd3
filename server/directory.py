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

import threading
import time
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event

from .categories.models import Category
from .extensions import db
from .units.models import Unit, UnitResponsible

_KEY = "gongzhi.directory"
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


class Directory:
    def __init__(self):
        self.lock = threading.Lock()
        self.units: dict[int, tuple[UnitInfo, float]] = {}
        self.categories: tuple[dict[int, CategoryInfo], float] | None = None

    def clear(self) -> None:
        with self.lock:
            self.units = {}
            self.categories = None


def _directory() -> Directory:
    found = current_app.extensions.get(_KEY)
    if found is None:
        found = current_app.extensions.setdefault(_KEY, Directory())
    return found


def units(ids: Iterable[int]) -> dict[int, UnitInfo]:
    """The units with these ids (unknown ids are left out), in at most one query."""
    directory = _directory()
    now = time.monotonic()
    ttl = current_app.config["UNIT_LOCATOR_TTL_SECONDS"]
    cached = directory.units
    found: dict[int, UnitInfo] = {}
    missing = []
    for unit_id in ids:
        hit = cached.get(unit_id)
        if hit is not None and now - hit[1] < ttl:
            found[unit_id] = hit[0]
        elif unit_id not in found:
            missing.append(unit_id)
    if missing:
        loaded: dict[int, list] = {}
        for row in db.session.connection().execute(_UNITS_BY_ID, {"ids": sorted(set(missing))}):
            entry = loaded.setdefault(row.id, [row, []])
            if row.person is not None:
                entry[1].append(Responsible(row.person, row.title or "", row.user_id))
        with directory.lock:
            if len(directory.units) > MAX_UNITS:
                directory.units = {}
            for unit_id, (row, people) in loaded.items():
                info = UnitInfo(row.id, row.code, row.name, row.kind, row.path, row.depth, tuple(people))
                directory.units[unit_id] = (info, now)
                found[unit_id] = info
    return found


def unit(unit_id: int) -> UnitInfo | None:
    return units((unit_id,)).get(unit_id)


def categories() -> dict[int, CategoryInfo]:
    """Every category by id."""
    directory = _directory()
    now = time.monotonic()
    cached = directory.categories
    if cached is not None and now - cached[1] < current_app.config["UNIT_LOCATOR_TTL_SECONDS"]:
        return cached[0]
    loaded = {row.id: CategoryInfo(row.id, row.code, row.name, row.icon or "", row.handler_kind, row.respond_hours,
                                   row.resolve_days, row.resolve_hours, bool(row.active))
              for row in db.session.connection().execute(_ALL_CATEGORIES)}
    directory.categories = (loaded, now)
    return loaded


def active_category(code: str) -> CategoryInfo | None:
    """The category a report may be filed under, by its code."""
    return next((c for c in categories().values() if c.code == code and c.active), None)


def forget() -> None:
    """Read everything again on next use (something changed in this process)."""
    found = current_app.extensions.get(_KEY) if has_app_context() else None
    if found is not None:
        found.clear()


@event.listens_for(Unit, "after_insert")
@event.listens_for(Unit, "after_update")
@event.listens_for(Unit, "after_delete")
@event.listens_for(UnitResponsible, "after_insert")
@event.listens_for(UnitResponsible, "after_update")
@event.listens_for(UnitResponsible, "after_delete")
@event.listens_for(Category, "after_insert")
@event.listens_for(Category, "after_update")
@event.listens_for(Category, "after_delete")
def _changed(_mapper, _connection, _target) -> None:
    forget()
