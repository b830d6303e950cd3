"""flask units import: a tree with boundaries; bad input is a clear error and nothing is half-imported."""
import json

import sqlalchemy as sa

from server.extensions import db
from server.units.models import Unit


def _square(x0, y0, size=0.01):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]}


def _feature(code, kind, parent=None, geometry=None, name=None):
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": name or code, "kind": kind, "parent": parent}}


def _run(app, tmp_path, features, **extra):
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}, ensure_ascii=False), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["units", "import", str(path)])


def _count():
    db.session.rollback()
    return db.session.execute(sa.select(sa.func.count(Unit.id))).scalar_one()


def test_import_builds_the_tree_children_before_parents(ctx, tmp_path):
    result = _run(ctx, tmp_path, [
        _feature("b1", "building", "c1", _square(114.001, 30.001, 0.002)),
        _feature("c1", "community", "s1", _square(114.0, 30.0)),
        _feature("s1", "street", None, _square(113.99, 29.99, 0.03), name="测试街道"),
    ])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    b1 = db.session.execute(sa.select(Unit).where(Unit.code == "b1")).scalar_one()
    assert b1.depth == 2 and b1.parent.code == "c1" and b1.parent.parent.name == "测试街道"


def test_self_intersecting_boundary_imports_nothing(ctx, tmp_path):
    bow_tie = {"type": "Polygon", "coordinates": [[[114, 30], [114.01, 30.01], [114.01, 30], [114, 30.01], [114, 30]]]}
    result = _run(ctx, tmp_path, [_feature("s1", "street", None, _square(114, 30)), _feature("c1", "community", "s1", bow_tie)])
    assert result.exit_code == 1
    assert "c1" in result.output and "自相交" in result.output
    assert _count() == 0


def test_unknown_parent_imports_nothing(ctx, tmp_path):
    result = _run(ctx, tmp_path, [_feature("s1", "street"), _feature("c1", "community", "nowhere")])
    assert result.exit_code == 1 and "nowhere" in result.output
    assert _count() == 0


def test_cycle_and_unknown_kind_rejected(ctx, tmp_path):
    result = _run(ctx, tmp_path, [_feature("a", "street", "b"), _feature("b", "planet", "a")])
    assert result.exit_code == 1 and "planet" in result.output
    assert _count() == 0


def test_not_geojson_is_a_clear_error(ctx, tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text("{oops", encoding="utf-8")
    result = ctx.test_cli_runner().invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1 and "JSON" in result.output


def test_gcj02_file_is_stored_as_wgs84(ctx, tmp_path):
    result = _run(ctx, tmp_path, [_feature("s1", "street", None, _square(114.0, 30.0))], coord="gcj02")
    assert result.exit_code == 0, result.output
    db.session.rollback()
    unit = db.session.execute(sa.select(Unit)).scalar_one()
    assert unit.min_lng < 114.0 - 0.003  # shifted west by the GCJ-02 offset


def test_staff_grant_and_revoke(demo):
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["staff", "grant", "dev:resident", "gz-demo-my", "cadre"])
    assert result.exit_code == 0, result.output
    client = demo.test_client()
    token = client.post("/api/v1/auth/login", json={"code": "dev:resident"}).json["token"]
    posts = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["posts"]
    assert [(p["unit"]["code"], p["role"]) for p in posts] == [("gz-demo-my", "cadre")]
    assert runner.invoke(args=["staff", "revoke", "dev:resident", "gz-demo-my", "cadre"]).exit_code == 0
    db.session.expire_all()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["posts"] == []
    bad = runner.invoke(args=["staff", "grant", "dev:resident", "gz-demo-my", "emperor"])
    assert bad.exit_code == 1 and "emperor" in bad.output
