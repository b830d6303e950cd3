"""Residents decide together, through the API: a ticket becomes a topic, opinions are
solicited, the branch proposes, the council deliberates, the residents vote in secret, and
the decision and its result are published to everyone who took part."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from server.extensions import db
from server.notifications.models import Notification
from server.units.models import Unit
from tests.api.helpers import act, photo, report, user_id
from tests.state import force_ticket


def _unit_id(code):
    return db.session.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


def _iso(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).isoformat()


def _topic_action(client, headers, topic_id, action, **body):
    return client.post(f"/api/v1/topics/{topic_id}/{action}", json=body, headers=headers)


def _home(client, headers, grid, household):
    claimed = client.post("/api/v1/roll/claims", json={"unit_id": _unit_id("gz-demo-hq-1-1"), "household": household},
                          headers=headers)
    assert claimed.status_code == 201, claimed.json
    reviewed = client.post(f"/api/v1/roll/entries/{claimed.json['id']}/review", json={"confirm": True}, headers=grid)
    assert reviewed.status_code == 200 and reviewed.json["status"] == "confirmed"


def test_from_a_report_to_a_published_result(client, demo, login):
    resident, grid, cadre, deputy, head = (login(n) for n in ("resident", "grid", "cadre", "deputy", "head"))
    tid = report(client, resident, description="小区门口想装一个充电桩").json["id"]
    assert act(client, grid, tid, "accept").status_code == 200
    assert act(client, deputy, tid, "propose", note="请议事会议一议").status_code == 200
    # The proposal opened a draft topic, seen by the unit's staff only.
    community = _unit_id("gz-demo-hq-1")
    drafts = client.get("/api/v1/topics", query_string={"unit_id": community, "group": "draft"}, headers=cadre).json
    topic = next(t for t in drafts["items"] if t["ticket_id"] == tid)
    assert client.get(f"/api/v1/topics/{topic['id']}").status_code == 404
    assert "solicit" in topic["allowed_actions"]
    # 征: opinions for at least three days.
    too_short = _topic_action(client, cadre, topic["id"], "solicit", until=_iso(timedelta(days=1)))
    assert too_short.status_code == 422 and too_short.json["message"] == "invalid_window"
    assert _topic_action(client, cadre, topic["id"], "solicit", until=_iso(timedelta(days=4))).status_code == 200
    assert client.get(f"/api/v1/topics/{topic['id']}").status_code == 200  # public from now on
    neighbours = [login(f"topic-neighbour-{i}") for i in range(6)]
    for i, person in enumerate(neighbours):
        _home(client, person, grid, f"5栋{i + 1}01")
    said = client.post(f"/api/v1/topics/{topic['id']}/opinions", json={"body": "赞成，晚上充电方便"}, headers=neighbours[0])
    assert said.status_code == 201 and said.json["mine"] is True
    outsider = login("topic-outsider")
    refused = client.post(f"/api/v1/topics/{topic['id']}/opinions", json={"body": "我也说两句"}, headers=outsider)
    assert refused.status_code == 403 and refused.json["message"] == "not_a_resident"
    early = _topic_action(client, cadre, topic["id"], "propose")
    assert early.status_code == 409  # the window is still open
    from server.topics.models import Topic
    from tests.state import force_topic

    force_topic(topic["id"], solicit_until=datetime.now(timezone.utc) - timedelta(minutes=1))
    db.session.commit()
    proposed = _topic_action(client, cadre, topic["id"], "propose", note="支部提议：征得意见 1 条，赞成")
    assert proposed.status_code == 200 and proposed.json["status"] == "proposed"
    assert db.session.get(Topic, topic["id"]).opinions == 1
    assert _topic_action(client, deputy, topic["id"], "deliberate").status_code == 200
    # 议事会: three seats; two present is two thirds; both yes.
    seats = []
    for i in range(3):
        member = login(f"council-{i}")
        seat = client.post("/api/v1/council/seats", json={"unit_id": community, "user_id": user_id(client, member),
                                                          "name": f"议事员{i}"}, headers=head)
        assert seat.status_code == 201, seat.json
        seats.append(seat.json["id"])
    listed = client.get("/api/v1/council", query_string={"unit_id": community}).json["items"]
    assert [m["name"] for m in listed] == ["议事员0", "议事员1", "议事员2"]
    sitting = client.post(f"/api/v1/topics/{topic['id']}/council", headers=deputy, json={
        "motion": "同意提交居民投票", "present": seats[:2], "votes": {str(seats[0]): "yes", str(seats[1]): "yes"},
        "minutes": "出席 2 人，一致同意"})
    assert sitting.status_code == 201 and sitting.json["passed"] is True
    assert sitting.json["votes"] == {"议事员0": "yes", "议事员1": "yes"}  # named and public
    # 决: an online vote of the residents, by person.
    put = _topic_action(client, head, topic["id"], "put_to_residents", method="vote", vote={
        "options": ["同意", "不同意"], "yes_option": 0, "opens_at": _iso(timedelta(minutes=-1)),
        "closes_at": _iso(timedelta(days=2)), "quorum_pct": 50, "threshold_pct": 50})
    assert put.status_code == 200 and put.json["status"] == "deciding"
    vote_id = client.get(f"/api/v1/topics/{topic['id']}").json["votes"][0]
    assert client.post(f"/api/v1/votes/{vote_id}/open", json={}, headers=cadre).status_code == 200
    shown = client.get(f"/api/v1/votes/{vote_id}").json
    assert shown["roll_size"] == 6 and shown["result"] is None
    # The roll is told; the inbox item opens the vote itself.
    inbox = client.get("/api/v1/notifications", headers=neighbours[0]).json["items"]
    assert [n["page"].split("&")[0] for n in inbox if n["template"] == "vote_opened"] == [
        f"/pages/topics/vote?id={vote_id}"]
    yes, no = (o["id"] for o in shown["options"])
    for i, person in enumerate(neighbours):
        cast = client.post(f"/api/v1/votes/{vote_id}/cast", json={"option_id": yes if i < 4 else no}, headers=person)
        assert cast.status_code == 200 and cast.json["voted"] is True
    assert client.get(f"/api/v1/votes/{vote_id}/result").status_code == 403
    assert client.post(f"/api/v1/votes/{vote_id}/cast", json={"option_id": yes}, headers=outsider).status_code == 403
    closed = client.post(f"/api/v1/votes/{vote_id}/close", json={}, headers=cadre)
    assert closed.status_code == 200
    result = client.get(f"/api/v1/votes/{vote_id}/result").json
    assert result["passed"] is True and result["counts"] == {str(yes): 4, str(no): 2} and result["turnout_pct"] == 100.0
    decided = client.get(f"/api/v1/topics/{topic['id']}").json
    assert decided["status"] == "decided" and decided["passed"] is True
    # 两公开: the decision, then the result; those who took part are told each time.
    published = _topic_action(client, cadre, topic["id"], "publish_decision", decision="在小区门口安装两个充电桩")
    assert published.status_code == 200
    told = db.session.execute(sa.select(Notification.user_id).where(Notification.template == "topic_published")).scalars()
    assert {user_id(client, p) for p in neighbours} <= set(told)
    inbox = client.get("/api/v1/notifications", headers=neighbours[5]).json["items"]
    assert inbox[0]["page"].startswith(f"/pages/topics/topic?id={topic['id']}&")
    assert _topic_action(client, cadre, topic["id"], "publish_result", result="已安装，12 月起可用").status_code == 200
    assert _topic_action(client, cadre, topic["id"], "close").json["status"] == "closed"
    timeline = [e["action"] for e in client.get(f"/api/v1/topics/{topic['id']}").json["timeline"]]
    assert timeline == ["create", "solicit", "propose", "deliberate", "council", "put_to_residents", "decide",
                        "publish_decision", "publish_result", "close"]
    assert "neighbour" not in client.get(f"/api/v1/votes/{vote_id}").get_data(as_text=True)  # never a voter


def test_a_topic_decided_against_returns_its_ticket(client, demo, login):
    resident, grid, cadre, deputy = (login(n) for n in ("resident", "grid", "cadre", "deputy"))
    tid = report(client, resident, description="想把绿地改成停车位").json["id"]
    act(client, grid, tid, "accept")
    act(client, deputy, tid, "propose")
    topic = client.get("/api/v1/topics", query_string={"unit_id": _unit_id("gz-demo-hq-1"), "group": "draft"},
                       headers=cadre).json["items"][0]
    assert _topic_action(client, cadre, topic["id"], "propose").status_code == 200
    assert _topic_action(client, cadre, topic["id"], "deliberate").status_code == 200
    decided = _topic_action(client, deputy, topic["id"], "decide", passed=False, note="绿地不改，另找车位")
    assert decided.status_code == 200 and decided.json["passed"] is False
    ticket = client.get(f"/api/v1/tickets/{tid}", headers=resident).json
    assert ticket["status"] == "returned" and ticket["return_reason"] == "not_adopted"


def test_a_draft_is_for_its_units_staff_and_actions_need_the_role(client, demo, login):
    cadre, resident, outsider_cadre = login("cadre"), login("resident"), login("topic-out-cadre")
    created = client.post("/api/v1/topics", json={"unit_id": _unit_id("gz-demo-hq-1"), "title": "楼道照明"},
                          headers=cadre)
    assert created.status_code == 201 and created.json["status"] == "draft"
    tid = created.json["id"]
    assert client.get(f"/api/v1/topics/{tid}", headers=resident).status_code == 404
    refused = client.post("/api/v1/topics", json={"unit_id": _unit_id("gz-demo-hq-1"), "title": "x"}, headers=resident)
    assert refused.status_code == 403
    assert _topic_action(client, resident, tid, "solicit", until=_iso(timedelta(days=5))).status_code == 404
    stale = _topic_action(client, cadre, tid, "solicit", until=_iso(timedelta(days=5)), version=99)
    assert stale.status_code == 409 and stale.json["message"] == "conflict"
    assert outsider_cadre and client.get(f"/api/v1/topics/{tid}", headers=outsider_cadre).status_code == 404


def test_hotspots_suggest_a_topic_with_the_tickets_behind_it(client, demo, login):
    cadre = login("cadre")
    ids = [report(client, login(f"hot-{i}"), description=f"路灯又坏了{i}", lat=30.5700 + i * 0.0001,
                  lng=114.2700).json["id"] for i in range(3)]
    found = client.get("/api/v1/topics/hotspots", query_string={"unit_id": _unit_id("gz-demo-hq-1")}, headers=cadre)
    assert found.status_code == 200
    assert any(set(ids) <= set(h["tickets"]) for h in found.json["items"]), found.json
    assert client.get("/api/v1/topics/hotspots", query_string={"unit_id": _unit_id("gz-demo-hq-1")},
                      headers=login("resident")).status_code == 403


def test_a_deputy_follows_topics_and_tickets(client, demo, login):
    deputy, resident = login("deputy"), login("resident")
    tid = report(client, resident).json["id"]
    created = client.post("/api/v1/topics", json={"unit_id": _unit_id("gz-demo-hq-1"), "title": "路口信号灯"},
                          headers=login("cadre")).json
    assert client.post(f"/api/v1/topics/{created['id']}/follow", headers=deputy).status_code == 204
    assert client.post(f"/api/v1/topics/{created['id']}/follow", headers=deputy).status_code == 204  # once
    from server.auth.actor import Actor
    from server.auth.models import User
    from server.topics import operations as topic_ops

    me = db.session.execute(sa.select(User).where(User.openid == "dev:deputy")).scalar_one()
    topic_ops.follow(Actor.of_user(me), ticket_id=tid)
    db.session.commit()
    items = client.get("/api/v1/me/follows", headers=deputy).json["items"]
    assert [(i["kind"], i["status"]) for i in items] == [("ticket", "submitted"), ("topic", "draft")]
    force_ticket(tid, status="accepted")
    db.session.commit()
    assert client.get("/api/v1/me/follows", headers=deputy).json["items"][0]["status_label"] == "已受理"


def test_a_held_opinion_waits_for_a_moderator(client, demo, login):
    from server.topics.models import Opinion

    cadre, grid = login("cadre"), login("grid")
    tid = client.post("/api/v1/topics", json={"unit_id": _unit_id("gz-demo-hq-1"), "title": "广场舞时间"},
                      headers=cadre).json["id"]
    _topic_action(client, cadre, tid, "solicit", until=_iso(timedelta(days=5)))
    writer, reader = login("op-writer"), login("op-reader")
    _home(client, writer, grid, "2栋301")
    said = client.post(f"/api/v1/topics/{tid}/opinions", json={"body": "晚上九点以后别跳了"}, headers=writer).json
    # As if WeChat's content check had said "review": held until a moderator decides.
    db.session.execute(sa.update(Opinion).where(Opinion.id == said["id"]).values(held=True))
    db.session.commit()
    assert client.get(f"/api/v1/topics/{tid}/opinions", headers=reader).json["items"] == []
    assert [o["id"] for o in client.get(f"/api/v1/topics/{tid}/opinions", headers=writer).json["items"]] == [said["id"]]
    assert client.post(f"/api/v1/opinions/{said['id']}/moderate", json={"approve": True},
                       headers=reader).status_code == 403
    approved = client.post(f"/api/v1/opinions/{said['id']}/moderate", json={"approve": True}, headers=grid)
    assert approved.status_code == 200 and approved.json["held"] is False
    assert [o["id"] for o in client.get(f"/api/v1/topics/{tid}/opinions", headers=reader).json["items"]] == [said["id"]]
    again = client.post(f"/api/v1/opinions/{said['id']}/moderate", json={"approve": False, "reason": "x"}, headers=grid)
    assert again.status_code == 409 and again.json["message"] == "not_held"


def test_a_stage_carries_its_attachments_and_a_photo_is_taken_once(client, demo, login):
    cadre, grid = login("cadre"), login("grid")
    tid = client.post("/api/v1/topics", json={"unit_id": _unit_id("gz-demo-hq-1"), "title": "健身器材选址"},
                      headers=cadre).json["id"]
    plan = photo(client, cadre)
    moved = _topic_action(client, cadre, tid, "solicit", until=_iso(timedelta(days=5)), note="两处候选位置见图",
                          media=[plan])
    assert moved.status_code == 200, moved.json
    stage = client.get(f"/api/v1/topics/{tid}").json["timeline"][-1]
    assert stage["action"] == "solicit" and [m["id"] for m in stage["media"]] == [plan]
    assert "media" not in stage["data"]  # storage keys stay on the server; the photo is shown by its address
    shown = client.get(stage["media"][0]["url"])
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    # The same photo cannot be attached again: not to another stage, nor to a report.
    again = _topic_action(client, cadre, tid, "propose", media=[plan])
    assert again.status_code == 422 and again.json["message"] == "invalid_media"
    assert client.get(f"/api/v1/topics/{tid}").json["status"] == "soliciting"  # nothing moved
    assert report(client, cadre, media=[plan]).json["message"] == "invalid_media"
    # Someone else's upload is refused too.
    writer = login("attach-writer")
    _home(client, writer, grid, "3栋502")
    theirs = photo(client, cadre)
    refused = client.post(f"/api/v1/topics/{tid}/opinions", json={"body": "放东边", "media": [theirs]}, headers=writer)
    assert refused.status_code == 422 and refused.json["message"] == "invalid_media"
    own = photo(client, writer)
    said = client.post(f"/api/v1/topics/{tid}/opinions", json={"body": "放东边", "media": [own]}, headers=writer)
    assert said.status_code == 201 and [m["id"] for m in said.json["media"]] == [own]
    twice = client.post(f"/api/v1/topics/{tid}/opinions", json={"body": "再说一次", "media": [own]}, headers=writer)
    assert twice.status_code == 422 and twice.json["message"] == "invalid_media"
