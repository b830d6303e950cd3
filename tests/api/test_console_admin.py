"""The console's administration pages through the Flask test client: units (tree, a unit's
page, a GeoJSON import previewed then applied), categories' time limits, staff posts,
the moderation queue, Open311 keys, report cards and bulletins. Each: 404 outside the
actor's scope or roles, an audit row for a change, refusal beyond one's own post, CSRF."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server.auth.models import StaffPost, User
from server.categories.models import Category
from server.console.models import AuditEntry
from server.extensions import db
from server.open311.models import ApiKey
from server.stats.models import ReportSnapshot
from server.tickets.models import Ticket
from server.topics.models import Opinion
from server.units.models import Unit
from tests.api.helpers import IN_MY_1, report
from tests.api.test_console import csrf_of, signed_in
from tests.api.test_content_check import _wechat_user


def _unit(code: str) -> Unit:
    return db.session.execute(sa.select(Unit).where(Unit.code == code)).scalar_one()


def _user(login: str) -> User:
    return db.session.execute(sa.select(User).where(User.openid == f"dev:{login}")).scalar_one()


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _text(res) -> str:
    return res.get_data(as_text=True)


def test_the_navigation_lists_the_pages_for_the_actors_roles(client, demo):
    signed_in(client, "head")
    nav = _text(client.get("/"))
    for label in ("单位", "岗位", "审核", "成绩单"):
        assert f">{label}</a>" in nav
    for label in ("分类时限", "开放接口密钥", "审计日志"):
        assert f">{label}</a>" not in nav
    for url in ("/categories", "/admin/keys"):
        assert client.get(url).status_code == 404


# --- units ------------------------------------------------------------------------------


def _collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + .004, y], [x + .004, y + .004],
                                                                              [x, y + .004], [x, y]]]},
         "properties": {"code": code, "name": name, "kind": kind, "parent": parent}}
        for code, name, kind, parent, (x, y) in features]}, ensure_ascii=False).encode()


def test_units_tree_and_a_units_page_in_scope_only(client, demo):
    signed_in(client, "head")
    tree = _text(client.get("/units"))
    assert "花桥社区" in tree and "民意社区" not in tree and "导入单位边界" not in tree  # heads do not import
    page = client.get(f"/units/{_unit('gz-demo-hq-1').id}")
    assert page.status_code == 200
    body = _text(page)
    assert "郑书记" in body and "社区干部李姐 · 干部" in body and 'id="map-data"' in body and "<script>" not in body
    assert client.get(f"/units/{_unit('gz-demo-my-1').id}").status_code == 404
    assert client.get("/units/99999").status_code == 404
    token = csrf_of(client.get("/units"))
    res = client.post("/units/import/preview", data={"csrf_token": token, "file": (io.BytesIO(b"{}"), "u.geojson")})
    assert res.status_code == 404


def test_an_import_is_previewed_then_applied_with_its_audit_row(client, demo):
    token = signed_in(client, "admin")
    upload = _collection(("gz-demo-hq-1", "花桥社区（新界）", "community", "gz-demo-hq", (114.27, 30.57)),
                         ("gz-demo-hq-9", "花桥新社区", "community", "gz-demo-hq", (114.28, 30.58)))
    res = client.post("/units/import/preview", data={"csrf_token": token, "file": (io.BytesIO(upload), "u.geojson")},
                      headers={"HX-Request": "true"})
    assert res.status_code == 200, _text(res)[:500]
    body = _text(res)
    assert "将新建 1 个单位，更新 1 个单位" in body and "名称、边界" in body and "确认导入" in body
    db.session.expire_all()
    assert _unit("gz-demo-hq-1").name == "花桥社区" and not _audit("unit.import")  # nothing written yet
    carried = json.loads(body.split('name="geojson" value="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
                         .replace("&quot;", '"').replace("&amp;", "&"))
    assert client.post("/units/import/apply", data={"geojson": json.dumps(carried)}).status_code == 400  # no token
    res = client.post("/units/import/apply", data={"csrf_token": token, "geojson": json.dumps(carried)})
    assert res.status_code == 303 and res.headers["Location"] == "/units?done=2"
    db.session.expire_all()
    assert _unit("gz-demo-hq-1").name == "花桥社区（新界）" and _unit("gz-demo-hq-9").parent.code == "gz-demo-hq"
    [entry] = _audit("unit.import")
    assert entry.before["gz-demo-hq-1"]["name"] == "花桥社区" and "gz-demo-hq-9" not in entry.before
    assert entry.after["gz-demo-hq-9"]["has_boundary"] is True and entry.actor_name == "区管理员"


def test_a_bad_import_shows_every_problem_and_writes_nothing(client, demo):
    token = signed_in(client, "admin")
    bad = _collection(("gz-demo-hq-1", "花桥社区", "planet", "gz-demo-hq", (114.27, 30.57)),
                      ("x-1", "某社区", "community", "nowhere", (114.27, 30.57)))
    res = client.post("/units/import/preview", data={"csrf_token": token, "file": (io.BytesIO(bad), "u.geojson")})
    assert res.status_code == 422
    body = _text(res)
    assert "未知的 kind" in body and "上级单位 nowhere 不存在" in body and "确认导入" not in body
    res = client.post("/units/import/apply", data={"csrf_token": token, "geojson": bad.decode()})
    assert res.status_code == 422 and "未知的 kind" in _text(res)
    assert not _audit("unit.import")


# --- categories -------------------------------------------------------------------------


def test_time_limits_changed_by_an_administrator_with_an_audit_row(client, demo):
    token = signed_in(client, "admin")
    page = _text(client.get("/categories"))
    assert "路灯损坏" in page and "响应时限（小时）" in page
    category = db.session.execute(sa.select(Category).where(Category.code == "streetlight")).scalar_one()
    url = f"/categories/{category.id}/limits"
    assert client.post(url, data={"respond_hours": "12", "resolve_days": "5"}).status_code == 400  # no token
    res = client.post(url, data={"csrf_token": token, "respond_hours": "0", "resolve_days": "5"})
    assert res.status_code == 422 and "响应时限应为" in _text(res)
    res = client.post(url, data={"csrf_token": token, "respond_hours": "12", "resolve_days": "5", "resolve_hours": ""})
    assert res.status_code == 303
    db.session.expire_all()
    category = db.session.get(Category, category.id)
    assert (category.respond_hours, category.resolve_days) == (12, 5)
    [entry] = _audit("category.limits")
    assert entry.before == {"respond_hours": 24, "resolve_days": 7, "resolve_hours": None}
    assert entry.after == {"respond_hours": 12, "resolve_days": 5, "resolve_hours": None}
    assert client.post("/categories/99999/limits", data={"csrf_token": token, "respond_hours": "1",
                                                         "resolve_days": "1"}).status_code == 404


# --- staff posts ------------------------------------------------------------------------


def test_posts_granted_within_scope_refused_beyond_it(client, demo):
    token = signed_in(client, "head")
    resident = _user("resident")
    hq1, my1 = _unit("gz-demo-hq-1").id, _unit("gz-demo-my-1").id
    listing = _text(client.get("/posts"))
    assert "社区干部李姐" in listing and "<option value=\"admin\">" not in listing
    grant = {"csrf_token": token, "user_id": str(resident.id), "unit_id": str(hq1), "role": "grid_worker"}
    assert client.post("/posts/grant", data={**grant, "csrf_token": ""}).status_code == 400
    res = client.post("/posts/grant", data=grant)
    assert res.status_code == 303, _text(res)[:400]
    [entry] = _audit("post.grant")
    assert entry.before == {} and entry.after["role"] == "grid_worker" and entry.after["unit_id"] == hq1
    assert client.post("/posts/grant", data={**grant, "unit_id": str(my1)}).status_code == 404  # another street
    res = client.post("/posts/grant", data={**grant, "role": "admin"})
    assert res.status_code == 403 and "不能授予或撤销高于自己岗位的角色" in _text(res)
    assert len(_audit("post.grant")) == 1
    post = db.session.execute(sa.select(StaffPost).where(StaffPost.user_id == resident.id)).scalar_one()
    outside = StaffPost(user_id=resident.id, unit_id=my1, role="cadre")
    db.session.add(outside)
    db.session.commit()
    assert client.post(f"/posts/{outside.id}/revoke", data={"csrf_token": token}).status_code == 404
    res = client.post(f"/posts/{post.id}/revoke", data={"csrf_token": token})
    assert res.status_code == 303
    [entry] = _audit("post.revoke")
    assert entry.before["role"] == "grid_worker" and entry.after == {"revoked": True}
    db.session.expire_all()
    assert db.session.get(StaffPost, post.id) is None


# --- moderation -------------------------------------------------------------------------


@pytest.fixture
def held(client, demo, fake_wechat, login):
    """A held report and a held opinion in 花桥 (the head's), and a held report in 民意."""
    fake_wechat.set_text_verdict("待审", "review")
    h = _wechat_user(client, fake_wechat, "cc-m", "oc-m")
    inside = report(client, h, description="待审的内容，路灯坏了").json["id"]
    outside = report(client, h, IN_MY_1, description="待审的内容，民意那边").json["id"]
    cadre = login("cadre")
    topic_id = client.post("/api/v1/topics", json={"unit_id": _unit("gz-demo-hq-1").id, "title": "广场舞时间"},
                           headers=cadre).json["id"]
    opinion = Opinion(topic_id=topic_id, user_id=_user("resident").id, body="待审的意见", held=True)
    db.session.add(opinion)
    db.session.commit()
    return {"in": inside, "out": outside, "opinion": opinion.id, "topic": topic_id}


def test_the_moderation_queue_approves_and_hides(client, held):
    token = signed_in(client, "head")
    page = _text(client.get("/moderation"))
    assert f"#{held['in']}" in page and f"#{held['out']}" not in page and "待审的意见" in page
    assert client.post(f"/moderation/tickets/{held['in']}/approve", data={}).status_code == 400
    assert client.post(f"/moderation/tickets/{held['out']}/approve", data={"csrf_token": token}).status_code == 404
    res = client.post(f"/moderation/tickets/{held['in']}/hide", data={"csrf_token": token, "reason": ""})
    assert res.status_code == 422
    res = client.post(f"/moderation/tickets/{held['in']}/approve", data={"csrf_token": token})
    assert res.status_code == 303
    db.session.expire_all()
    assert db.session.get(Ticket, held["in"]).held is False
    [entry] = _audit("ticket.approve")
    assert entry.before["held"] is True and entry.after["held"] is False
    res = client.post(f"/moderation/opinions/{held['opinion']}/hide", data={"csrf_token": token, "reason": "与议题无关"})
    assert res.status_code == 303
    [entry] = _audit("opinion.hide")
    assert entry.after == {"held": True, "hidden": True, "asked": {"reason": "与议题无关"}}
    assert client.post(f"/moderation/opinions/{held['opinion']}/approve", data={"csrf_token": token}).status_code == 409


def test_an_opinion_outside_the_moderators_units_is_404(client, held, login):
    other = client.post("/api/v1/topics", json={"unit_id": _unit("gz-demo-my-1").id, "title": "别处的议题"},
                        headers=login("admin")).json["id"]
    opinion = Opinion(topic_id=other, body="别处的意见", held=True)
    db.session.add(opinion)
    db.session.commit()
    token = signed_in(client, "head")
    assert "别处的意见" not in _text(client.get("/moderation"))
    assert client.post(f"/moderation/opinions/{opinion.id}/approve", data={"csrf_token": token}).status_code == 404


# --- Open311 keys -----------------------------------------------------------------------


def test_keys_issued_once_and_revoked_by_an_administrator(client, demo):
    token = signed_in(client, "admin")
    assert client.post("/admin/keys", data={"name": "城市服务平台"}).status_code == 400
    res = client.post("/admin/keys", data={"csrf_token": token, "name": "城市服务平台"})
    assert res.status_code == 201
    secret = _text(res).split('id="new-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("o311_")
    listing = _text(client.get("/admin/keys"))
    assert "城市服务平台" in listing and secret not in listing
    key = db.session.execute(sa.select(ApiKey)).scalar_one()
    [entry] = _audit("open311_key.issue")
    assert entry.before == {} and entry.after["name"] == "城市服务平台" and secret not in json.dumps(entry.after)
    assert client.post("/admin/keys", data={"csrf_token": token, "name": "城市服务平台"}).status_code == 422
    assert client.post(f"/admin/keys/{key.id}/revoke", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is not None
    [entry] = _audit("open311_key.revoke")
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]
    assert client.post("/admin/keys/99999/revoke", data={"csrf_token": token}).status_code == 404


# --- report cards and bulletins ---------------------------------------------------------


@pytest.fixture
def monthly(demo):
    from server.stats import operations as stats_ops

    snapshot, _, _ = stats_ops.monthly("2026-01", now=datetime(2026, 2, 2, tzinfo=timezone.utc))
    db.session.commit()
    return snapshot.id


def test_report_cards_of_ones_units_and_their_workbook(client, monthly):
    token = signed_in(client, "head")
    page = _text(client.get("/reports"))
    assert "2026年1月接诉即办月度督查" in page and "花桥社区" in page and "民意社区" not in page
    assert "发布两月通报" not in page
    res = client.get(f"/reports/{monthly}.xlsx")
    assert res.status_code == 200
    names = [r[1] for r in load_workbook(io.BytesIO(res.data)).active.iter_rows(min_row=2, values_only=True)]
    assert "花桥街道" in names and "民意街道" not in names
    assert client.get("/reports/99999.xlsx").status_code == 404
    assert client.get("/reports?snapshot=99999").status_code == 404
    assert client.post("/reports/bulletin", data={"csrf_token": token, "first": "2026-01",
                                                  "last": "2026-02"}).status_code == 404


def test_an_administrator_publishes_the_bulletin(client, monthly):
    token = signed_in(client, "admin")
    assert "发布两月通报" in _text(client.get("/reports"))
    data = {"first": "2025-11", "last": "2025-12"}
    assert client.post("/reports/bulletin", data=data).status_code == 400
    res = client.post("/reports/bulletin", data={**data, "csrf_token": token})
    assert res.status_code == 303 and "done=published" in res.headers["Location"]
    bulletin = db.session.execute(sa.select(ReportSnapshot).where(ReportSnapshot.kind == "bulletin")).scalar_one()
    [entry] = _audit("bulletin.publish")
    assert entry.before == {} and entry.after["period"] == "2025-11..2025-12" and entry.after["created"] is True
    res = client.post("/reports/bulletin", data={"csrf_token": token, "first": "2099-01", "last": "2099-02"})
    assert res.status_code == 422 and "尚未结束" in _text(res)
    workbook = client.get(f"/reports/{bulletin.id}.xlsx")
    assert workbook.status_code == 200 and workbook.headers["Content-Type"].startswith("application/vnd.openxml")
