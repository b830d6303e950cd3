"""Importing the unit tree. All or nothing: every feature is checked before any row is written."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..errors import Invalid
from ..extensions import db
from .geo import BoundaryError, parse_boundary
from .models import UNIT_KINDS, Unit, UnitResponsible


class ImportRejected(Invalid):
    key = "import_rejected"


@dataclass
class _Row:
    code: str
    name: str
    kind: str
    parent: str | None
    boundary: dict | None
    bounds: tuple | None
    responsibles: list = field(default_factory=list)


def _check_feature(index: int, feature, coord: str, problems: list[str]) -> _Row | None:
    where = f"第 {index + 1} 个要素"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(f"{where}: 不是 GeoJSON Feature")
        return None
    props = feature.get("properties") or {}
    code, name, kind = props.get("code"), props.get("name"), props.get("kind")
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        problems.append(f"{where}: 缺少 code（1-64 个字符）")
        return None
    where = f"{where} ({code})"
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        problems.append(f"{where}: 缺少 name")
    if kind not in UNIT_KINDS:
        problems.append(f"{where}: 未知的 kind {kind!r}（可选: {', '.join(UNIT_KINDS)}）")
    parent = props.get("parent")
    if parent is not None and not isinstance(parent, str):
        problems.append(f"{where}: parent 必须是上级单位的 code")
    boundary, bounds = None, None
    if feature.get("geometry") is not None:
        try:
            geom, boundary = parse_boundary(feature["geometry"], coord)
            bounds = geom.bounds
        except BoundaryError as exc:
            problems.append(f"{where}: {exc}")
    responsibles = props.get("responsibles") or []
    if not isinstance(responsibles, list) or not all(
        isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"].strip() for r in responsibles
    ):
        problems.append(f"{where}: responsibles 应为 [{{name, title}}] 列表")
        responsibles = []
    return _Row(code.strip(), (name or "").strip(), kind, parent, boundary, bounds, responsibles)


def _plan(collection: dict | str, within: list[str] | None = None) -> tuple[list[_Row], dict[str, Unit]]:
    """Every check of an import, nothing written: the rows and the units stored now, or
    ImportRejected listing every problem. `within`: the path prefixes the importer's posts
    cover (None: no limit, the `flask units import` command)."""
    if isinstance(collection, str):
        try:
            collection = json.loads(collection)
        except ValueError as exc:
            raise ImportRejected(f"文件不是合法的 JSON: {exc}") from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ImportRejected("文件必须是 GeoJSON FeatureCollection")
    coord = collection.get("coord", "wgs84")
    if coord not in ("wgs84", "gcj02"):
        raise ImportRejected("coord 只能是 wgs84 或 gcj02")
    problems: list[str] = []
    checked = [_check_feature(i, f, coord, problems) for i, f in enumerate(collection.get("features") or [])]
    rows = [r for r in checked if r is not None]
    if not rows and not problems:
        problems.append("文件中没有任何单位")
    seen: set[str] = set()
    for row in rows:
        if row.code in seen:
            problems.append(f"{row.code}: 重复的 code")
        seen.add(row.code)
    existing = {u.code: u for u in db.session.execute(sa.select(Unit)).scalars()}
    for row in rows:
        if row.parent is not None and row.parent not in seen and row.parent not in existing:
            problems.append(f"{row.code}: 上级单位 {row.parent} 不存在")
        if row.parent == row.code:
            problems.append(f"{row.code}: 上级不能是自己")
    if not problems:
        problems.extend(_cycles(rows, existing))
    if not problems and within is not None:
        problems.extend(_outside(rows, existing, within))
    if problems:
        raise ImportRejected("导入失败，未写入任何数据", errors={"problems": problems})
    return rows, existing


def _outside(rows: list[_Row], existing: dict[str, Unit], within: list[str]) -> list[str]:
    """An importer changes only units their posts cover: a stored unit in scope (moved only
    under a parent in scope), a new one only under a parent in scope or in the file."""
    def covered(unit: Unit) -> bool:
        return any(unit.path.startswith(path) for path in within)

    in_file = {r.code for r in rows}
    problems = []
    for row in rows:
        unit = existing.get(row.code)
        current_parent = unit.parent.code if unit is not None and unit.parent is not None else None
        if unit is not None and not covered(unit):
            problems.append(f"{row.code}: 不在您的管辖范围内")
        elif unit is not None and row.parent == current_parent:
            continue
        elif row.parent is None:
            problems.append(f"{row.code}: 只能在您管辖的单位之下新建或移动单位（缺少 parent）")
        elif row.parent not in in_file and not covered(existing[row.parent]):
            problems.append(f"{row.code}: 上级单位 {row.parent} 不在您的管辖范围内")
    return problems


CHANGE_LABELS = {"name": "名称", "kind": "层级", "parent": "上级", "boundary": "边界", "responsibles": "包联"}


def preview_import(collection: dict | str, within: list[str] | None = None) -> list[dict]:
    """What an import would do, unit by unit, with the same checks (ImportRejected) and no
    write: code, name, kind, parent, `new`, the fields that change, the boundary after and
    before (GeoJSON, WGS-84)."""
    rows, existing = _plan(collection, within)
    plan = []
    for row in rows:
        unit = existing.get(row.code)
        old_boundary = json.loads(unit.boundary) if unit is not None and unit.boundary else None
        changes = []
        if unit is None:
            changes = [k for k, v in (("boundary", row.boundary), ("responsibles", row.responsibles)) if v]
        else:
            if unit.name != row.name:
                changes.append("name")
            if unit.kind != row.kind:
                changes.append("kind")
            if (unit.parent.code if unit.parent else None) != row.parent:
                changes.append("parent")
            if row.boundary is not None and row.boundary != old_boundary:
                changes.append("boundary")
            if row.responsibles and [(r["name"].strip(), str(r.get("title") or "")) for r in row.responsibles] != \
                    [(r.name, r.title) for r in unit.responsibles]:
                changes.append("responsibles")
        plan.append({"code": row.code, "name": row.name, "kind": row.kind, "kind_label": UNIT_KINDS[row.kind],
                     "parent": row.parent, "new": unit is None, "unit_id": unit.id if unit is not None else None,
                     "changes": changes, "change_labels": [CHANGE_LABELS[c] for c in changes],
                     "boundary": row.boundary, "old_boundary": old_boundary})
    return plan


def import_units(collection: dict | str, within: list[str] | None = None) -> list[Unit]:
    """Create or update units from a GeoJSON FeatureCollection.

    Each feature's properties: `code`, `name`, `kind`, `parent` (a code, in the file or
    already stored), optional `responsibles` [{name, title}]. The collection may say
    `"coord": "gcj02"`; WGS-84 is the default and what is stored. Raises ImportRejected
    listing every problem; nothing is written then. `within` limits it to the units under
    these paths (the console: the importer's posts).
    """
    rows, existing = _plan(collection, within)
    by_code = dict(existing)
    for row in rows:
        unit = by_code.get(row.code) or Unit(code=row.code)
        unit.name, unit.kind = row.name, row.kind
        if row.boundary is not None:
            unit.boundary = json.dumps(row.boundary, separators=(",", ":"))
            unit.min_lng, unit.min_lat, unit.max_lng, unit.max_lat = row.bounds
        if row.responsibles:
            unit.responsibles = [
                UnitResponsible(name=r["name"].strip()[:64], title=str(r.get("title") or "")[:64])
                for r in row.responsibles
            ]
        by_code[row.code] = unit
        db.session.add(unit)
    for row in rows:
        by_code[row.code].parent = by_code[row.parent] if row.parent else None
    db.session.flush()
    rebuild_paths()
    return [by_code[r.code] for r in rows]


def _cycles(rows: list[_Row], existing: dict[str, Unit]) -> list[str]:
    parent_of = {code: (u.parent.code if u.parent else None) for code, u in existing.items()}
    parent_of.update({r.code: r.parent for r in rows})
    problems = []
    for row in rows:
        seen, code = set(), row.code
        while code is not None:
            if code in seen:
                problems.append(f"{row.code}: 上下级关系形成了环")
                break
            seen.add(code)
            code = parent_of.get(code)
    return problems


def rebuild_paths() -> None:
    """Recompute every unit's materialised path and depth from the parent links."""
    units = db.session.execute(sa.select(Unit)).scalars().all()
    by_id = {u.id: u for u in units}

    def path_of(unit: Unit) -> str:
        chain, node = [], unit
        while node is not None:
            chain.append(node.id)
            node = by_id.get(node.parent_id) if node.parent_id else None
        return "/" + "/".join(str(i) for i in reversed(chain)) + "/"

    for unit in units:
        path = path_of(unit)
        depth = path.count("/") - 2
        if unit.path != path or unit.depth != depth:
            unit.path, unit.depth = path, depth
    db.session.flush()
