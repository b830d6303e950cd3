"""Deciding together in the console: a topic moved along its stages with minutes and
photos, a council sitting, a vote opened, a paper ballot entered and the vote closed, the
roll's claims confirmed; every change audited, other streets' topics 404, CSRF needed."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from server.console.models import AuditEntry
from server.extensions import db
from server.topics.models import Topic
from server.units.models import Unit
from server.votes.models import Vote
from tests.api.helpers import jpeg_bytes, user_id
from tests.api.test_console import signed_in
from tests.state import force_topic

BEIJING = timezone(timedelta(hours=8))


def _unit_id(code: str) -> int:
    return db.session.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


def _local(delta: timedelta) -> str:
    """A datetime-local field's value, Beijing time."""
    return (datetime.now(BEIJING) + delta).strftime("%Y-%m-%dT%H:%M")


def _audit(action: str) -> list[AuditEntry]:
    return db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars().all()


def _version(topic_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Topic, topic_id).version


def test_a_topic_from_draft_to_a_vote_with_minutes_photos_and_a_council_sitting(client, demo, login):
    token = signed_in(client, "head")
    community = _unit_id("gz-demo-hq-1")
    listed = client.get(f"/topics?unit={community}")
    assert listed.status_code == 200 and "提出议题" in listed.get_data(as_text=True)
    made = client.post("/topics", data={"csrf_token": token, "unit_id": community, "title": "楼道加装扶手"})
    assert made.status_code == 303
    topic_id = int(re.search(r"/topics/(\d+)", made.headers["Location"]).group(1))
    assert "楼道加装扶手" in client.get(f"/topics?unit={community}").get_data(as_text=True)
    solicited = client.post(f"/topics/{topic_id}/solicit", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(_version(topic_id)), "until": _local(timedelta(days=5)),
        "note": "请各楼栋说说需要装在哪几层", "photos": [(io.BytesIO(jpeg_bytes()), "plan.jpg")]})
    assert solicited.status_code == 303, solicited.get_data(as_text=True)[:800]
    page = client.get(f"/topics/{topic_id}").get_data(as_text=True)
    assert "征求意见" in page and "请各楼栋说说需要装在哪几层" in page and "这一步的附件 1" in page
    photo = re.search(r'<img src="([^"]+)" alt="这一步的附件 1"', page).group(1).replace("&amp;", "&")
    assert client.get(photo).status_code == 200
    # Too short a window: refused in Chinese, nothing moved.
    topic = db.session.get(Topic, topic_id)
    assert topic.status.value == "soliciting"
    for who in ("propose", "deliberate"):
        if who == "propose":
            force_topic(topic_id, solicit_until=datetime.now(timezone.utc) - timedelta(minutes=1))
            db.session.commit()
        moved = client.post(f"/topics/{topic_id}/{who}", data={"csrf_token": token, "version": str(_version(topic_id))})
        assert moved.status_code == 303, moved.get_data(as_text=True)[:800]
    # The council: three seats (by the unit's head, through the API's operation), two present, both yes.
    head = login("head")
    seats = [client.post("/api/v1/council/seats", headers=head, json={
        "unit_id": community, "user_id": user_id(client, login(f"console-council-{i}")), "name": f"议事员{i}"}).json["id"]
        for i in range(3)]
    sat = client.post(f"/topics/{topic_id}/council", data={
        "csrf_token": token, "version": str(_version(topic_id)), "motion": "同意交居民投票",
        "present": [str(seats[0]), str(seats[1])], f"vote_{seats[0]}": "yes", f"vote_{seats[1]}": "yes"})
    assert sat.status_code == 303, sat.get_data(as_text=True)[:800]
    page = client.get(f"/topics/{topic_id}").get_data(as_text=True)
    assert "议事员0：同意" in page and "通过" in page
    put = client.post(f"/topics/{topic_id}/put_to_residents", data={
        "csrf_token": token, "version": str(_version(topic_id)), "method": "vote", "vote_options": "同意\n不同意",
        "vote_opens_at": _local(timedelta(minutes=-1)), "vote_closes_at": _local(timedelta(days=2)),
        "vote_quorum_pct": "0", "vote_threshold_pct": "50"})
    assert put.status_code == 303, put.get_data(as_text=True)[:800]
    vote = db.session.execute(sa.select(Vote).where(Vote.topic_id == topic_id)).scalar_one()
    assert (vote.quorum_pct, vote.threshold_pct) == (0, 50)
    assert [e.action for e in _audit("topic.create")] and len(_audit("topic.solicit")) == 1
    assert _audit("topic.council")[0].after["asked"]["motion"] == "同意交居民投票"


def test_a_vote_is_opened_a_paper_ballot_entered_and_the_result_published(client, demo, login):
    token = signed_in(client, "head")
    grid, resident = login("grid"), login("console-voter")
    claim = client.post("/api/v1/roll/claims", headers=resident,
                        json={"unit_id": _unit_id("gz-demo-hq-1-1"), "household": "7栋201"}).json
    assert client.post(f"/api/v1/roll/entries/{claim['id']}/review", json={"confirm": True},
                       headers=grid).status_code == 200
    now = datetime.now(timezone.utc)
    vote = client.post("/api/v1/votes", headers=login("cadre"), json={
        "unit_id": _unit_id("gz-demo-hq-1"), "title": "小区大门换成人脸识别", "options": ["同意", "不同意"],
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()}).json
    page = client.get(f"/votes/{vote['id']}").get_data(as_text=True)
    assert "开始投票（冻结名册）" in page
    assert client.post(f"/votes/{vote['id']}/open", data={"csrf_token": token}).status_code == 303
    paper = client.post(f"/votes/{vote['id']}/paper", data={
        "csrf_token": token, "entry_id": str(claim["id"]), "option_id": str(vote["options"][0]["id"])})
    assert paper.status_code == 303, paper.get_data(as_text=True)[:800]
    # The same entry cannot vote twice, on paper or online.
    again = client.post(f"/votes/{vote['id']}/paper", data={
        "csrf_token": token, "entry_id": str(claim["id"]), "option_id": str(vote["options"][1]["id"])})
    assert again.status_code == 409 and "已经投过票" in again.get_data(as_text=True)
    online = client.post(f"/api/v1/votes/{vote['id']}/cast", json={"option_id": vote["options"][1]["id"]},
                         headers=resident)
    assert online.status_code == 409
    assert client.post(f"/votes/{vote['id']}/close", data={"csrf_token": token}).status_code == 303
    page = client.get(f"/votes/{vote['id']}").get_data(as_text=True)
    assert "已结束" in page and "票数少于 5 张" in page
    assert client.get(f"/api/v1/votes/{vote['id']}/result").json["ballots"] == 1
    paper_rows = _audit("vote.paper")
    assert len(paper_rows) == 1 and "option_id" not in str(paper_rows[0].after)  # the choice is not in the log


def test_the_roll_claims_are_confirmed_in_the_console(client, demo, login):
    token = signed_in(client, "head")
    resident = login("console-claimant")
    compound = _unit_id("gz-demo-hq-1-1")
    claim = client.post("/api/v1/roll/claims", headers=resident, json={"unit_id": compound, "household": "3栋602"}).json
    page = client.get(f"/roll?unit={compound}").get_data(as_text=True)
    assert "3栋602" in page
    confirmed = client.post(f"/roll/{claim['id']}/review", data={"csrf_token": token, "confirm": "1",
                                                                "version": str(claim["version"])})
    assert confirmed.status_code == 303
    assert client.get("/api/v1/roll/mine", headers=resident).json["items"][0]["status"] == "confirmed"
    assert _audit("roll.review")[0].after["status"] == "confirmed"


def test_other_streets_topics_are_404_and_changes_need_the_csrf_token(client, demo, login):
    token = signed_in(client, "head")
    from server.auth.actor import Actor
    from server.auth.models import User
    from server.topics import operations as topic_ops

    admin = Actor.of_user(db.session.execute(sa.select(User).where(User.openid == "dev:admin")).scalar_one())
    elsewhere = topic_ops.create(admin, _unit_id("gz-demo-my-1"), "另一条街的议题")
    mine = topic_ops.create(admin, _unit_id("gz-demo-hq-1"), "本街道的议题")
    db.session.commit()
    assert client.get(f"/topics/{elsewhere.id}").status_code == 404
    assert client.get(f"/topics?unit={_unit_id('gz-demo-my-1')}").status_code == 404
    assert client.post(f"/topics/{elsewhere.id}/withdraw", data={"csrf_token": token, "reason": "x"}).status_code == 404
    refused = client.post(f"/topics/{mine.id}/withdraw", data={"reason": "不需要了"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Topic, mine.id).status.value == "draft" and not _audit("topic.withdraw")
    withdrawn = client.post(f"/topics/{mine.id}/withdraw", data={"csrf_token": token, "reason": "不需要了"})
    assert withdrawn.status_code == 303
