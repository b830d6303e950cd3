"""Every action x role x (in scope, out of scope): the allowed ones succeed, the others get 403 or 409.

For each action the ticket is first brought to a state where the action is possible
(by staff who are allowed), then each role tries it. In scope means a post over the
ticket's unit (花桥社区); out of scope means the same role in another street (民意街道).
"""
import pytest

from server.auth.operations import grant_post
from server.extensions import db
from tests.api.helpers import act, photo, report, user_id
from tests.state import force_ticket

ROLES = ["grid_worker", "cadre", "unit_head", "deputy", "admin"]
IN_SCOPE_UNIT, OUT_OF_SCOPE_UNIT = "gz-demo-hq-1", "gz-demo-my"

# action -> (how to reach the state: list of (actor, action, body-builder)), the roles that may do it
SETUP = {
    "accept": [],
    "return": [],
    "transfer": [],
    "withdraw": [],
    "propose": [("boss", "accept")],
    "assign": [("boss", "accept")],
    "progress": [("boss", "accept"), ("boss", "assign")],
    "resolve": [("boss", "accept"), ("boss", "assign")],
    "rate": [("boss", "accept"), ("boss", "assign"), ("boss", "resolve")],
}
ALLOWED = {
    "accept": {"grid_worker", "cadre", "unit_head", "admin"},
    "return": {"grid_worker", "cadre", "unit_head", "admin"},
    "transfer": {"grid_worker", "cadre", "unit_head", "admin"},
    "withdraw": {"reporter"},
    "propose": {"grid_worker", "cadre", "unit_head", "deputy", "admin"},
    "assign": {"cadre", "unit_head", "deputy", "admin"},
    "progress": {"assignee", "cadre", "unit_head", "admin"},
    "resolve": {"assignee", "unit_head", "admin"},
    "rate": {"reporter"},
}


def _body(client, action, headers, doer_id, target_unit_id):
    return {
        "accept": {}, "withdraw": {}, "propose": {"note": "提交议事会"},
        "return": {"reason": "out_of_scope", "note": "不属于本单位"},
        "transfer": {"unit_id": target_unit_id, "reason": "属于民意街道"},
        "assign": {"assignee_id": doer_id, "note": "请处理"},
        "progress": {"note": "正在处理"},
        "resolve": {"note": "已处理", "media": [photo(client, headers)]},
        "rate": {"rating": "satisfied"},
    }[action]


@pytest.fixture
def actors(client, demo, login):
    people = {"reporter": login("resident"), "resident": login("passer-by"), "boss": login("boss"),
              "assignee": login("doer")}
    grant_post("dev:boss", IN_SCOPE_UNIT, "admin")
    grant_post("dev:doer", "gz-demo-hq-1-1", "grid_worker")  # below the ticket's unit: only ever the assignee
    for role in ROLES:
        login(f"in-{role}"), login(f"out-{role}")
        grant_post(f"dev:in-{role}", IN_SCOPE_UNIT, role)
        grant_post(f"dev:out-{role}", OUT_OF_SCOPE_UNIT, role)
        people[f"in:{role}"] = login(f"in-{role}")
        people[f"out:{role}"] = login(f"out-{role}")
    db.session.commit()
    return people


CASES = [(action, who) for action in ALLOWED for who in
         ["reporter", "resident", "assignee"] + [f"in:{r}" for r in ROLES] + [f"out:{r}" for r in ROLES]]


@pytest.mark.parametrize("action, who", CASES, ids=[f"{a}-{w}" for a, w in CASES])
def test_permission_matrix(client, actors, action, who):
    import sqlalchemy as sa

    from server.units.models import Unit

    boss = actors["boss"]
    doer_id = user_id(client, actors["assignee"])
    target = db.session.execute(sa.select(Unit.id).where(Unit.code == "gz-demo-my-1")).scalar_one()
    tid = report(client, actors["reporter"]).json["id"]
    for _actor, step in SETUP[action]:
        res = act(client, boss, tid, step, **_body(client, step, boss, doer_id, target))
        assert res.status_code == 200, (step, res.json)
    headers = actors[who]
    res = act(client, headers, tid, action, **_body(client, action, headers, doer_id, target))
    in_scope_role = who.startswith("in:") and who[3:] in ALLOWED[action]
    if who in ALLOWED[action] or in_scope_role:
        assert res.status_code == 200, res.json
    else:
        assert res.status_code in (403, 409), res.json


def test_out_of_scope_staff_cannot_see_held_tickets(client, actors, fake_wechat):

    tid = report(client, actors["reporter"]).json["id"]
    force_ticket(tid, held=True)
    db.session.commit()
    assert client.get(f"/api/v1/tickets/{tid}", headers=actors["out:cadre"]).status_code == 404
    assert client.get(f"/api/v1/tickets/{tid}").status_code == 404
    assert client.get(f"/api/v1/tickets/{tid}", headers=actors["in:cadre"]).status_code == 200
    assert client.get(f"/api/v1/tickets/{tid}", headers=actors["reporter"]).status_code == 200
