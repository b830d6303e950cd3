"""The lifecycle through the API: report -> accept -> assign -> progress -> resolve -> rate."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from server.extensions import db
from server.tickets.models import Ticket, TicketEvent
from server.timeutil import utcnow
from tests.api.helpers import IN_MY_1, OUTSIDE, act, photo, report, user_id


def test_report_is_routed_by_place_and_category(client, demo, login):
    h = login("resident")
    res = report(client, h)
    assert res.status_code == 201, res.json
    t = res.json
    assert t["status"] == "submitted" and t["status_label"] == "待受理"
    assert t["unit"]["code"] == "gz-demo-hq-1"            # streetlight: handled by the community
    assert t["responsibles"] and t["triage"] is False
    created = datetime.fromisoformat(t["created_at"])
    assert datetime.fromisoformat(t["respond_by"]) - created == timedelta(hours=24)
    assert datetime.fromisoformat(t["resolve_by"]) - created == timedelta(days=7)
    water = report(client, h, category="water_supply").json
    assert water["unit"]["code"] == "gz-demo-hq"            # water: the street
    assert datetime.fromisoformat(water["resolve_by"]) - datetime.fromisoformat(water["created_at"]) == timedelta(hours=24)
    parking = report(client, h, category="parking").json
    assert parking["unit"]["code"] == "gz-demo-hq-1-1"      # parking: the compound


def test_outside_every_boundary_goes_to_triage(client, demo, login):
    t = report(client, login("resident"), place=OUTSIDE).json
    assert t["unit"]["code"] == "gz-demo" and t["triage"] is True


def test_gcj02_report_is_stored_as_wgs84(client, demo, login):
    from server.units.geo import wgs84_to_gcj02

    glat, glng = wgs84_to_gcj02(30.57, 114.2795)
    t = report(client, login("resident"), place={"lat": glat, "lng": glng, "coord": "gcj02"}, category="parking").json
    assert t["unit"]["code"] == "gz-demo-hq-1-1"
    assert abs(t["lat"] - glat) < 1e-6 and t["coord"] == "gcj02"
    stored = db.session.get(Ticket, t["id"])
    assert abs(stored.lng - 114.2795) < 1e-6


def test_fifty_retries_with_one_key_make_one_ticket(client, demo, login):
    h = login("resident")
    ids = {report(client, h, key="retry-key-0001").json["id"] for _ in range(50)}
    assert len(ids) == 1
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 1


def test_same_key_other_body_is_422(client, demo, login):
    h = login("resident")
    assert report(client, h, key="key-abcdefgh").status_code == 201
    res = report(client, h, key="key-abcdefgh", description="另一件事")
    assert res.status_code == 422 and res.json["message"] == "idempotency_key_reused"


def test_keys_belong_to_their_user(client, demo, login):
    a = report(client, login("resident"), key="shared-key-01").json["id"]
    b = report(client, login("neighbour"), key="shared-key-01").json["id"]
    assert a != b


def test_report_validation(client, demo, login):
    h = login("resident")
    assert report(client, h, description="").status_code == 422
    assert report(client, h, description="长" * 2001).status_code == 422
    assert report(client, h, category="nope").json["message"] == "unknown_category"
    assert report(client, h, place={"lat": 95, "lng": 114}).status_code == 422
    assert report(client, h, media=list(range(1, 11))).status_code == 422
    assert report(client, h, media=[999999]).json["message"] == "invalid_media"
    assert client.post("/api/v1/tickets", json={"category": "streetlight"}).status_code == 401


def test_photos_are_attached_once_and_only_by_their_owner(client, demo, login):
    h, other = login("resident"), login("neighbour")
    pid = photo(client, h)
    assert report(client, other, media=[pid]).json["message"] == "invalid_media"
    t = report(client, h, media=[pid]).json
    assert [m["id"] for m in t["media"]] == [pid]
    assert client.get(t["media"][0]["thumbnail_url"]).status_code == 200
    assert report(client, h, media=[pid]).json["message"] == "invalid_media"


def test_whole_lifecycle_with_one_redo(client, demo, login):
    resident, grid, cadre = login("resident"), login("grid"), login("cadre")
    tid = report(client, resident, media=[photo(client, resident)]).json["id"]
    assert act(client, grid, tid, "accept", note="已收到，马上处理").json["status"] == "accepted"
    cadre_id = user_id(client, cadre)
    due = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    t = act(client, cadre, tid, "assign", assignee_id=cadre_id, due_at=due, priority="urgent", note="请三天内修好").json
    assert t["status"] == "assigned" and t["assignee"]["id"] == cadre_id and t["priority"] == "urgent"
    assert act(client, cadre, tid, "progress", note="已联系供电所", media=[photo(client, cadre)]).json["status"] == "in_progress"
    assert act(client, cadre, tid, "resolve", note="没有照片").json["message"] == "photo_required"
    assert act(client, cadre, tid, "resolve", note="已更换灯泡", media=[photo(client, cadre)]).json["status"] == "resolved"
    t = act(client, resident, tid, "rate", rating="dissatisfied", comment="还是不亮").json
    assert t["status"] == "assigned" and t["redo"] is True
    assert datetime.fromisoformat(t["resolve_by"]) > datetime.now(timezone.utc) + timedelta(days=6)
    act(client, cadre, tid, "resolve", note="更换了线路", media=[photo(client, cadre)])
    t = act(client, resident, tid, "rate", rating="dissatisfied", comment="仍不满意").json
    assert t["status"] == "closed" and t["rating"]["rating"] == "dissatisfied"   # the second one stands
    events = client.get(f"/api/v1/tickets/{tid}/events").json["items"]
    assert [e["action"] for e in events] == ["report", "accept", "assign", "progress", "resolve", "redo", "resolve", "rate"]
    assert [e["to_status"] for e in events][-3:] == ["assigned", "resolved", "closed"]
    assert events[1]["actor"]["display"].startswith("网格员") and events[0]["actor"]["display"] == "反映人"
    assert len(events[3]["media"]) == 1


def test_public_sees_no_reporter_and_no_internal_notes(client, demo, login):
    resident, cadre = login("resident"), login("cadre")
    tid = report(client, resident, anonymous=True).json["id"]
    act(client, cadre, tid, "accept")
    act(client, cadre, tid, "assign", assignee_id=user_id(client, cadre))
    act(client, cadre, tid, "progress", note="内部：联系了物业经理", public=False)
    public = client.get(f"/api/v1/tickets/{tid}").json
    assert public["reporter"] == {"display": "匿名群众"}
    public_events = client.get(f"/api/v1/tickets/{tid}/events").json["items"]
    assert "内部：联系了物业经理" not in str(public_events)
    staff_events = client.get(f"/api/v1/tickets/{tid}/events", headers=cadre).json["items"]
    assert "内部：联系了物业经理" in str(staff_events)
    assert "resident" not in client.get(f"/api/v1/tickets/{tid}", headers=cadre).get_data(as_text=True)


def test_staff_see_a_masked_phone_only(client, demo, login, fake_wechat):
    fake_wechat.add_phone_code("ph-1", phone="13900001234")
    resident = login("resident")
    client.post("/api/v1/me/phone", json={"code": "ph-1"}, headers=resident)
    tid = report(client, resident).json["id"]
    body = client.get(f"/api/v1/tickets/{tid}", headers=login("grid")).get_data(as_text=True)
    assert "139****1234" in body and "13900001234" not in body and "居民刘阿姨" not in body


def test_duplicate_return_links_and_merges_supporters(client, demo, login):
    a, b, c, grid = login("resident"), login("neighbour"), login("third"), login("grid")
    original = report(client, a).json["id"]
    dup = report(client, b).json["id"]
    client.post(f"/api/v1/tickets/{dup}/support", headers=c)
    t = act(client, grid, dup, "return", reason="duplicate", duplicate_of=original).json
    assert t["status"] == "returned" and t["duplicate_of"] == original
    assert client.get(f"/api/v1/tickets/{original}").json["supporters"] == 2
    assert act(client, grid, original, "return", reason="duplicate").json["message"] == "invalid_duplicate"


def test_support_counts_once_per_user(client, demo, login):
    tid = report(client, login("resident")).json["id"]
    n = login("neighbour")
    assert client.post(f"/api/v1/tickets/{tid}/support", headers=n).json["supporters"] == 1
    assert client.post(f"/api/v1/tickets/{tid}/support", headers=n).json["supporters"] == 1
    assert client.post(f"/api/v1/tickets/{tid}/support", headers=login("resident")).json["supporters"] == 1


def test_nearby_finds_open_tickets_of_the_category_within_200_m(client, demo, login):
    h = login("resident")
    near = report(client, h, place={"lat": 30.5701, "lng": 114.2701}).json["id"]
    report(client, h, place={"lat": 30.575, "lng": 114.27})                      # ~550 m away
    report(client, h, place={"lat": 30.5701, "lng": 114.2701}, category="noise")
    items = client.get("/api/v1/tickets/nearby?lat=30.57&lng=114.27&category=streetlight").json["items"]
    assert [i["id"] for i in items] == [near] and items[0]["distance_m"] < 20


def test_map_lists_public_tickets_in_a_box_with_a_cursor(client, demo, login):
    h = login("resident")
    ids = [report(client, h).json["id"] for _ in range(3)]
    first = client.get("/api/v1/tickets/map?min_lat=30.56&min_lng=114.26&max_lat=30.58&max_lng=114.28&limit=2").json
    second = client.get(f"/api/v1/tickets/map?min_lat=30.56&min_lng=114.26&max_lat=30.58&max_lng=114.28&limit=2&cursor={first['next_cursor']}").json
    assert [i["id"] for i in first["items"] + second["items"]] == sorted(ids, reverse=True)


def test_staff_list_is_scoped_and_keyset_paginated(client, demo, login):
    h = login("resident")
    mine = [report(client, h).json["id"] for _ in range(5)]
    report(client, h, place=IN_MY_1)                       # another street: not the grid worker's
    grid = login("grid")
    page1 = client.get("/api/v1/tickets?scope=unit&limit=3", headers=grid).json
    page2 = client.get(f"/api/v1/tickets?scope=unit&limit=3&cursor={page1['next_cursor']}", headers=grid).json
    assert [t["id"] for t in page1["items"] + page2["items"]] == sorted(mine, reverse=True)
    assert page2["next_cursor"] is None
    head_all = client.get("/api/v1/tickets?scope=unit", headers=login("admin")).json["items"]
    assert len(head_all) == 6
    assert client.get("/api/v1/tickets?scope=unit", headers=h).status_code == 403
    assert len(client.get("/api/v1/tickets?scope=mine", headers=h).json["items"]) == 6
    assert client.get("/api/v1/tickets?scope=unit&status=accepted", headers=grid).json["items"] == []


def test_sweep_escalates_overdue_to_the_unit_above(client, demo, login, ctx):
    tid = report(client, login("resident")).json["id"]
    later = utcnow() + timedelta(hours=25)
    result = ctx.test_cli_runner().invoke(args=["tickets", "sweep"])
    assert result.exit_code == 0 and '"escalated": 0' in result.output
    from server.tickets.timers import sweep

    assert sweep(now=later)["escalated"] == 1
    db.session.commit()
    assert sweep(now=later)["escalated"] == 0                          # once only
    head = login("head")                                                # unit head of the street above
    supervised = client.get("/api/v1/tickets?scope=supervision", headers=head).json["items"]
    assert [t["id"] for t in supervised] == [tid] and supervised[0]["overdue"] is True
    assert client.get(f"/api/v1/tickets/{tid}/events").json["items"][-1]["action"] == "escalate"


def test_unrated_resolution_closes_as_unrated(client, demo, login):
    resident, grid = login("resident"), login("grid")
    tid = report(client, resident).json["id"]
    act(client, grid, tid, "accept")
    act(client, grid, tid, "resolve", note="已修好", media=[photo(client, grid)])
    from server.tickets.timers import sweep

    assert sweep(now=utcnow() + timedelta(days=8))["closed_unrated"] == 1
    db.session.commit()
    t = client.get(f"/api/v1/tickets/{tid}").json
    assert t["status"] == "closed" and t["rating"] is None


def test_events_are_append_only(client, demo, login):
    import pytest

    tid = report(client, login("resident")).json["id"]
    ev = db.session.execute(sa.select(TicketEvent).where(TicketEvent.ticket_id == tid)).scalar_one()
    ev.note = "改写历史"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_stale_version_is_409_conflict(client, demo, login):
    tid = report(client, login("resident")).json["id"]
    grid = login("grid")
    res = act(client, grid, tid, "accept", version=99)
    assert res.status_code == 409 and res.json["message"] == "conflict"
    assert act(client, grid, tid, "accept", version=1).status_code == 200
    res = act(client, grid, tid, "accept")
    assert res.status_code == 409 and res.json["message"] == "invalid_transition"


def test_allowed_actions_follow_the_viewer(client, demo, login):
    resident, neighbour, grid = login("resident"), login("neighbour"), login("grid")
    tid = report(client, resident).json["id"]
    assert client.get(f"/api/v1/tickets/{tid}", headers=resident).json["allowed_actions"] == ["withdraw"]
    assert client.get(f"/api/v1/tickets/{tid}", headers=neighbour).json["allowed_actions"] == ["support"]
    assert client.get(f"/api/v1/tickets/{tid}", headers=grid).json["allowed_actions"] == ["accept", "return", "transfer", "support"]
    assert client.get(f"/api/v1/tickets/{tid}").json["allowed_actions"] == []
