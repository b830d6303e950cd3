"""Units: the tree of the actor's units, a unit's page (its boundary on a map, its 包联
people, the posts held there), and a GeoJSON import previewed on the map before it is
applied (units.operations: the checks of `flask units import`, limited to the importer's
units)."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import current_app, redirect, request, url_for

from ..auth.models import ROLE_LABELS, StaffPost, User
from ..errors import Invalid, NotFound
from ..extensions import db
from ..units import operations as units_ops
from ..units import queries as unit_queries
from ..units.models import UNIT_KINDS, Unit
from ..units.scope import scope_paths
from .web import actor, audited, bp, page, render, unit_in_scope

VIEWERS = ("admin", "unit_head")
IMPORTERS = ("admin",)
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def units_below(roles=VIEWERS) -> list[Unit]:
    """Every unit the actor's posts (of these roles) cover, in tree order."""
    paths = scope_paths(actor(), roles=roles)
    if not paths:
        return []
    return list(db.session.execute(
        sa.select(Unit).where(sa.or_(*[Unit.path.startswith(p, autoescape=True) for p in paths]))
        .order_by(Unit.path)).scalars())


def _map_settings() -> dict:
    return {"tiles": current_app.config.get("CONSOLE_TILES_URL") or "",
            "attribution": current_app.config.get("CONSOLE_TILES_ATTRIBUTION") or ""}


@bp.get("/units")
@page("单位", order=30, roles=VIEWERS)
def unit_tree():
    found = units_below()
    top = min((u.depth for u in found), default=0)
    may_import = bool(scope_paths(actor(), roles=IMPORTERS))
    return render("console/units.html", units=found, top=top, kinds=UNIT_KINDS, may_import=may_import,
                  done=request.args.get("done"))


@bp.get("/units/<int:unit_id>")
def unit_page(unit_id: int):
    unit = unit_in_scope(unit_id, roles=VIEWERS)
    posts = db.session.execute(
        sa.select(StaffPost, User).join(User, User.id == StaffPost.user_id).where(StaffPost.unit_id == unit.id)
        .order_by(StaffPost.role, User.id)).all()
    data = {"map": {**_map_settings(), "boundaries": {"type": "FeatureCollection",
                                                       "features": unit_queries.boundaries(unit, levels=1)}}}
    return render("console/unit.html", unit=unit, kinds=UNIT_KINDS, parents=unit_queries.ancestors(unit),
                  children=unit.children, posts=posts, role_labels=ROLE_LABELS, data=data,
                  done=request.args.get("done"))


def _uploaded_text() -> str:
    """The GeoJSON of the form: the uploaded file (UTF-8) or, on confirming, the text the
    preview carried."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.stream.read(MAX_IMPORT_BYTES + 1)
    else:
        raw = request.form.get("geojson", "").encode()
    if not raw.strip():
        raise Invalid("请选择 GeoJSON 文件", key="validation_error")
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid("文件超过 5 MB", key="validation_error")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("文件须为 UTF-8 编码的 GeoJSON", key="validation_error") from None


def _within() -> list[str]:
    paths = scope_paths(actor(), roles=IMPORTERS)
    if not paths:
        raise NotFound()
    return paths


@bp.post("/units/import/preview")
def unit_import_preview():
    """What the file would change, on the map and in a table; nothing written."""
    within = _within()
    text = _uploaded_text()
    try:
        plan = units_ops.preview_import(text, within=within)
    except units_ops.ImportRejected as err:
        code = 200 if request.headers.get("HX-Request") == "true" else 422  # htmx swaps only a 2xx answer in
        return render("console/units_import.html", code, plan=None, problems=(err.errors or {}).get("problems", []),
                      detail=err.detail, geojson="")
    features = []
    for item in plan:
        for key, state in (("old_boundary", "before"), ("boundary", "after")):
            if item[key] is not None and (state == "after" or "boundary" in item["changes"]):
                features.append({"type": "Feature", "geometry": item[key],
                                 "properties": {"name": item["name"], "code": item["code"], "state": state}})
    data = {"map": {**_map_settings(), "boundaries": {"type": "FeatureCollection", "features": features}}}
    return render("console/units_import.html", plan=plan, problems=[], detail="", geojson=text, data=data)


def _import_state(codes: list[str]) -> dict:
    rows = db.session.execute(sa.select(Unit).where(Unit.code.in_(codes)).order_by(Unit.code)).scalars()
    return {u.code: {"id": u.id, "name": u.name, "kind": u.kind, "parent_id": u.parent_id,
                     "has_boundary": u.boundary is not None} for u in rows}


@bp.post("/units/import/apply")
def unit_import_apply():
    """The previewed file applied, all or nothing, with the same checks again."""
    within = _within()
    text = _uploaded_text()
    try:
        codes = [f.get("properties", {}).get("code") for f in json.loads(text).get("features", [])]
        codes = [c.strip() for c in codes if isinstance(c, str)]
    except (ValueError, AttributeError):
        codes = []
    with audited("unit.import", f"units:{len(codes)}", lambda: _import_state(codes)) as asked:
        asked["codes"] = codes[:200]
        units = units_ops.import_units(text, within=within)
    if len(units) == 1:
        return redirect(url_for("console.unit_page", unit_id=units[0].id, done="imported"), 303)
    return redirect(url_for("console.unit_tree", done=str(len(units))), 303)
