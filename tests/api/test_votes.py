"""Residents' votes and the roll through the API: one roll entry one vote across accounts
and channels, the rules shown before anyone votes, small tallies hidden."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from server.extensions import db
from server.units.models import Unit


def _unit_id(code):
    return db.session.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


def _iso(delta):
    return (datetime.now(timezone.utc) + delta).isoformat()


def _vote(client, cadre, **extra):
    body = {"unit_id": _unit_id("gz-demo-hq-1"), "title": "楼顶加装光伏", "options": ["同意", "不同意", "弃权"],
            "yes_option": 0, "opens_at": _iso(timedelta(minutes=-1)), "closes_at": _iso(timedelta(days=1)), **extra}
    made = client.post("/api/v1/votes", json=body, headers=cadre)
    assert made.status_code == 201, made.json
    return made.json


def _home(client, person, grid, household):
    claimed = client.post("/api/v1/roll/claims", json={"unit_id": _unit_id("gz-demo-hq-1-1"), "household": household},
                          headers=person).json
    assert client.post(f"/api/v1/roll/entries/{claimed['id']}/review", json={"confirm": True},
                       headers=grid).status_code == 200
    return claimed["id"]


def test_the_rules_are_shown_before_voting_and_frozen_after(client, demo, login):
    cadre, resident = login("cadre"), login("resident")
    vote = _vote(client, cadre, quorum_pct=60, threshold_pct=66)
    assert client.get(f"/api/v1/votes/{vote['id']}", headers=resident).status_code == 404  # a draft: staff only
    opened = client.post(f"/api/v1/votes/{vote['id']}/open", json={}, headers=cadre).json
    shown = client.get(f"/api/v1/votes/{vote['id']}").json
    assert (shown["quorum_pct"], shown["threshold_pct"], shown["status"]) == (60, 66, "open")
    assert [o["label"] for o in shown["options"]] == ["同意", "不同意", "弃权"] and opened["roll_size"] == shown["roll_size"]
    again = client.post(f"/api/v1/votes/{vote['id']}/open", json={}, headers=cadre)
    assert again.status_code == 409  # frozen


def test_a_second_account_of_the_same_household_gets_nothing_more(client, demo, login):
    cadre, grid = login("cadre"), login("grid")
    mother, son, other = login("hh-mother"), login("hh-son"), login("hh-other")
    _home(client, mother, grid, "8栋301")
    _home(client, son, grid, "8栋301")
    _home(client, other, grid, "8栋302")
    vote = _vote(client, cadre, by_household=True)
    client.post(f"/api/v1/votes/{vote['id']}/open", json={}, headers=cadre)
    yes, no, _ = (o["id"] for o in vote["options"])
    assert client.post(f"/api/v1/votes/{vote['id']}/cast", json={"option_id": yes}, headers=mother).status_code == 200
    mine = client.get(f"/api/v1/votes/{vote['id']}", headers=son).json
    assert mine["voted"] is True  # the household has voted
    assert client.post(f"/api/v1/votes/{vote['id']}/cast", json={"option_id": no}, headers=son).status_code == 200
    client.post(f"/api/v1/votes/{vote['id']}/close", json={}, headers=cadre)
    result = client.get(f"/api/v1/votes/{vote['id']}/result").json
    assert result["ballots"] == 1 and result["roll_size"] == 2 and result["counts"] is None


def test_paper_ballots_are_entered_against_the_roll_and_block_online(client, demo, login):
    cadre, grid, elder = login("cadre"), login("grid"), login("paper-elder")
    entry = _home(client, elder, grid, "9栋101")
    vote = _vote(client, cadre)
    client.post(f"/api/v1/votes/{vote['id']}/open", json={}, headers=cadre)
    yes = vote["options"][0]["id"]
    resident = login("resident")
    refused = client.post(f"/api/v1/votes/{vote['id']}/paper", json={"entry_id": entry, "option_id": yes}, headers=resident)
    assert refused.status_code == 403
    assert client.post(f"/api/v1/votes/{vote['id']}/paper", json={"entry_id": entry, "option_id": yes},
                       headers=grid).status_code == 204
    online = client.post(f"/api/v1/votes/{vote['id']}/cast", json={"option_id": yes}, headers=elder)
    assert online.status_code == 409 and online.json["message"] == "already_voted"


def test_a_home_claim_waits_for_confirmation(client, demo, login):
    person, grid = login("claimer"), login("grid")
    claimed = client.post("/api/v1/roll/claims", json={"unit_id": _unit_id("gz-demo-hq-1-1"), "household": "6栋1单元"},
                          headers=person)
    assert claimed.status_code == 201 and claimed.json["status"] == "claimed"
    pending = client.get("/api/v1/roll/claims", query_string={"unit_id": _unit_id("gz-demo-hq-1")}, headers=grid).json
    assert claimed.json["id"] in [e["id"] for e in pending["items"]]
    assert client.get("/api/v1/roll/claims", query_string={"unit_id": _unit_id("gz-demo-hq-1")},
                      headers=person).status_code == 403
    client.post(f"/api/v1/roll/entries/{claimed.json['id']}/review", json={"confirm": True}, headers=grid)
    again = client.post("/api/v1/roll/claims", json={"unit_id": _unit_id("gz-demo-hq-1-1"), "household": "7栋"},
                        headers=person)
    assert again.status_code == 409 and again.json["message"] == "already_confirmed"
    assert [e["status"] for e in client.get("/api/v1/roll/mine", headers=person).json["items"]] == ["confirmed"]


def test_a_vote_is_cancelled_with_a_reason(client, demo, login):
    cadre = login("cadre")
    vote = _vote(client, cadre)
    assert client.post(f"/api/v1/votes/{vote['id']}/cancel", json={"reason": " "}, headers=cadre).status_code == 422
    done = client.post(f"/api/v1/votes/{vote['id']}/cancel", json={"reason": "方案有变"}, headers=cadre)
    assert done.status_code == 200 and done.json["status"] == "cancelled"


def test_an_admin_imports_a_roll_of_households_from_csv_or_xlsx(client, demo, login):
    import io

    from openpyxl import Workbook

    admin, grid = login("admin"), login("grid")
    compound = _unit_id("gz-demo-hq-1-1")

    def upload(headers, data, filename):
        return client.post("/api/v1/roll/import-file", headers=headers, content_type="multipart/form-data",
                           data={"unit_id": str(compound), "file": (io.BytesIO(data), filename)})

    csv_gb = "户号,户主\n1栋101,王大爷\n1栋102,李阿姨\n\n".encode("gb18030")
    done = upload(admin, csv_gb, "名册.csv")
    assert done.status_code == 201 and done.json["added"] == 2
    book = Workbook()
    sheet = book.active
    sheet.append(["household", "name"])
    sheet.append(["1栋103", "赵"])
    sheet.append(["1栋101", "王大爷"])  # already on the roll: left as it is
    out = io.BytesIO()
    book.save(out)
    assert upload(admin, out.getvalue(), "roll.xlsx").json["added"] == 1
    refused = upload(admin, "姓名\n张三\n".encode(), "bad.csv")
    assert refused.status_code == 422 and refused.json["message"] == "invalid_roll"
    assert upload(admin, b"PK\x03\x04not a workbook", "x.xlsx").json["message"] == "invalid_roll"
    assert upload(grid, csv_gb, "名册.csv").status_code == 403  # admins only


def test_the_answer_to_a_cast_is_what_reading_the_vote_says_next(client, demo, login):
    """The cast's answer is built from what it recorded; a GET reads it all back."""
    cadre, grid = login("cadre"), login("grid")
    voter, household_member = login("answer-voter"), login("answer-member")
    _home(client, voter, grid, "9栋101")
    _home(client, household_member, grid, "9栋101")
    for by_household in (False, True):
        vote = _vote(client, cadre, by_household=by_household)
        client.post(f"/api/v1/votes/{vote['id']}/open", json={}, headers=cadre)
        for person, option in ((voter, vote["options"][1]["id"]), (household_member, vote["options"][2]["id"])):
            cast = client.post(f"/api/v1/votes/{vote['id']}/cast", json={"option_id": option}, headers=person)
            assert cast.status_code == 200
            assert cast.json == client.get(f"/api/v1/votes/{vote['id']}", headers=person).json
            assert cast.json["my_option"] == option and cast.json["channel"] == "online"
