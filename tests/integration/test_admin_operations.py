"""The operations the console's administration pages call, directly: an import within the
importer's units (preview and apply), a category's time limits, posts granted and revoked
by staff (never above their own), a snapshot's workbook limited to some units."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server.auth import operations as auth_ops
from server.auth.actor import Actor
from server.auth.models import StaffPost, User
from server.categories import operations as categories
from server.categories.models import Category
from server.errors import Forbidden, Invalid
from server.extensions import db
from server.units.models import Unit
from server.units.operations import ImportRejected, import_units, preview_import
from server.units.scope import scope_paths


def _actor(login: str) -> Actor:
    return Actor.of_user(db.session.execute(sa.select(User).where(User.openid == f"dev:{login}")).scalar_one())


def _unit(code: str) -> Unit:
    return db.session.execute(sa.select(Unit).where(Unit.code == code)).scalar_one()


def _square(x0, y0, size=0.004):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size],
                                                [x0, y0]]]}


def _collection(*features):
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": geometry, "properties": {"code": code, "name": name, "kind": kind,
                                                                  "parent": parent}}
        for code, name, kind, parent, geometry in features]}


def test_preview_tells_what_changes_and_writes_nothing(demo):
    head = _actor("head")
    plan = preview_import(_collection(
        ("gz-demo-hq-1", "花桥社区（新）", "community", "gz-demo-hq", _square(114.27, 30.57)),
        ("gz-demo-hq-9", "新建社区", "community", "gz-demo-hq", _square(114.28, 30.58)),
    ), within=scope_paths(head))
    assert [(p["code"], p["new"], p["changes"]) for p in plan] == [
        ("gz-demo-hq-1", False, ["name", "boundary"]), ("gz-demo-hq-9", True, ["boundary"])]
    assert plan[0]["old_boundary"]["type"] == "Polygon" and plan[0]["change_labels"] == ["名称", "边界"]
    db.session.rollback()
    assert _unit("gz-demo-hq-1").name == "花桥社区"
    assert db.session.execute(sa.select(Unit).where(Unit.code == "gz-demo-hq-9")).scalar() is None


@pytest.mark.parametrize("feature, problem", [
    (("gz-demo-my-1", "民意社区", "community", "gz-demo-my", None), "gz-demo-my-1: 不在您的管辖范围内"),
    (("gz-demo-hq-9", "新建社区", "community", "gz-demo-my", None), "上级单位 gz-demo-my 不在您的管辖范围内"),
    (("gz-demo-hq-1", "花桥社区", "community", "gz-demo-my", None), "上级单位 gz-demo-my 不在您的管辖范围内"),
    (("new-root", "新区", "district", None, None), "缺少 parent"),
])
def test_an_import_beyond_the_importers_units_is_refused_whole(demo, feature, problem):
    head = _actor("head")
    fine = ("gz-demo-hq-2", "桃源社区（改）", "community", "gz-demo-hq", None)
    for attempt in (preview_import, import_units):
        with pytest.raises(ImportRejected) as caught:
            attempt(_collection(fine, feature), within=scope_paths(head))
        assert any(problem in p for p in caught.value.errors["problems"]), caught.value.errors
    db.session.rollback()
    assert _unit("gz-demo-hq-2").name == "桃源社区"


def test_an_import_within_scope_applies_and_the_top_unit_keeps_its_parent(demo):
    head = _actor("head")
    units = import_units(_collection(("gz-demo-hq", "花桥街道", "street", "gz-demo", _square(114.26, 30.56, 0.04)),
                                     ("gz-demo-hq-9", "新建社区", "community", "gz-demo-hq", _square(114.27, 30.57))),
                         within=scope_paths(head))
    assert [u.code for u in units] == ["gz-demo-hq", "gz-demo-hq-9"]
    assert units[1].parent.code == "gz-demo-hq" and units[1].path.startswith(units[0].path)


def test_time_limits_by_a_top_administrator_only(demo):
    category = db.session.execute(sa.select(Category).where(Category.code == "streetlight")).scalar_one()
    with pytest.raises(Forbidden):
        categories.set_time_limits(category, _actor("head"), 12, 5, None)
    with pytest.raises(Invalid) as caught:
        categories.set_time_limits(category, _actor("admin"), 0, 500, 0)
    assert set(caught.value.errors["fields"]) == {"respond_hours", "resolve_days", "resolve_hours"}
    categories.set_time_limits(category, _actor("admin"), 12, 5, None)
    db.session.commit()
    assert (category.respond_hours, category.resolve_days, category.resolve_hours) == (12, 5, None)


def test_posts_granted_and_revoked_never_above_ones_own(demo):
    head, admin = _actor("head"), _actor("admin")
    resident = db.session.execute(sa.select(User).where(User.openid == "dev:resident")).scalar_one()
    post = auth_ops.grant_post_by(head, resident.id, _unit("gz-demo-hq-1"), "cadre")
    assert post.role.value == "cadre" and post.unit.code == "gz-demo-hq-1"
    for role in ("admin", "deputy"):
        with pytest.raises(Forbidden) as caught:
            auth_ops.grant_post_by(head, resident.id, _unit("gz-demo-hq-1"), role)
        assert caught.value.key == "role_above_own"
    with pytest.raises(Forbidden):  # a cadre grants nothing
        auth_ops.grant_post_by(_actor("cadre"), resident.id, _unit("gz-demo-hq-1"), "grid_worker")
    with pytest.raises(Forbidden):  # outside the head's street
        auth_ops.grant_post_by(head, resident.id, _unit("gz-demo-my-1"), "grid_worker")
    assert auth_ops.grant_post_by(admin, resident.id, _unit("gz-demo-my-1"), "deputy").role.value == "deputy"
    deputy_post = db.session.execute(sa.select(StaffPost).where(StaffPost.role == "deputy",
                                                                StaffPost.user_id == resident.id)).scalar_one()
    with pytest.raises(Forbidden):
        auth_ops.revoke_post_by(head, deputy_post)
    own = db.session.execute(sa.select(StaffPost).where(StaffPost.user_id == head.id)).scalars().first()
    with pytest.raises(Forbidden) as caught:
        auth_ops.revoke_post_by(head, own)
    assert caught.value.key == "own_post"
    auth_ops.revoke_post_by(head, post)
    db.session.commit()
    assert {p.role.value for p in db.session.execute(sa.select(StaffPost).where(
        StaffPost.user_id == resident.id)).scalars()} == {"deputy"}


def test_a_workbook_of_some_units(demo):
    from datetime import datetime, timezone

    from server.stats import operations as stats_ops
    from server.stats.export import workbook_bytes

    snapshot, _, _ = stats_ops.monthly("2026-01", now=datetime(2026, 2, 2, tzinfo=timezone.utc))
    street = _unit("gz-demo-hq")
    ids = set(db.session.execute(sa.select(Unit.id).where(Unit.path.startswith(street.path))).scalars())
    sheet = load_workbook(io.BytesIO(workbook_bytes(snapshot, ids))).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "花桥街道" in names and "民意街道" not in names and "共治示范区" not in names
    assert len(names) == len(ids)
