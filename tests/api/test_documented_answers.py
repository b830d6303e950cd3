"""The answers are what the OpenAPI document says: the check every test client runs
(tests/response_check.py) fails on what the document does not describe, and answers that a
schema dumps lose nothing on the way (a dump drops an undeclared key without a word)."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from schemathesis.core.failures import Failure, FailureGroup

from server.auth.models import User
from server.extensions import db
from server.privacy import operations as privacy
from server.tickets.models import TicketEvent
from server.tickets.schemas import EventData, SupportOut, TicketPage
from server.tickets.timers import sweep
from server.timeutil import utcnow
from server.units.models import Unit
from tests.api.helpers import act, photo, report, user_id
from tests.response_check import check, dropped_keys

MISMATCH = (Failure, FailureGroup)  # one failed check, or several


def _altered(res, change):
    body = res.get_json()
    change(body)
    res.set_data(json.dumps(body))
    return res


@pytest.mark.parametrize("change", [
    lambda body: body["items"][0].update(colour="red"),           # a field the document does not declare
    lambda body: body["items"][0].update(respond_hours="24"),     # a declared field of another type
    lambda body: body.update(items={}),
    lambda body: body["items"][0].pop("name"),                     # a field every answer has
], ids=["undeclared field", "wrong type", "object for a list", "missing field"])
def test_an_answer_unlike_the_document_fails_the_test(client, demo, change):
    res = client.get("/api/v1/categories")
    assert res.status_code == 200
    with pytest.raises(MISMATCH):
        check(client.application, _altered(res, change))


@pytest.mark.parametrize("change", [
    lambda body: body.pop("message"),
    lambda body: body["errors"].update(hint="try again"),
    lambda body: body["errors"].pop("detail"),
], ids=["no message", "undeclared error key", "no detail"])
def test_an_error_unlike_the_envelope_fails_the_test(client, demo, change):
    res = client.get("/api/v1/tickets/999999")
    assert res.status_code == 404
    with pytest.raises(MISMATCH):
        check(client.application, _altered(res, change))


def test_a_nullable_object_is_null_or_its_schema(client, demo, login):
    """apispec's `anyOf: [{type: object, nullable: true}, ...]` would admit any object here."""
    res = client.get(f"/api/v1/tickets/{report(client, login('resident')).json['id']}")
    assert res.json["assignee"] is None
    check(client.application, res)
    with pytest.raises(MISMATCH):
        check(client.application, _altered(res, lambda body: body.update(assignee={"colour": "red"})))


def test_an_answer_of_an_undeclared_content_type_fails_the_test(client, demo):
    res = client.get("/api/v1/categories")
    res.headers["Content-Type"] = "text/html; charset=utf-8"
    with pytest.raises(MISMATCH):
        check(client.application, res)


def test_a_key_a_schema_dump_would_drop_is_noted():
    with dropped_keys() as noted:
        SupportOut().dump({"supporters": 3})
        SupportOut().dump({"supporters": 3, "secret": 1})
        TicketPage().dump({"items": [{"id": 1, "colour": "red"}], "next_cursor": None})
    assert noted == [("SupportOut", ["secret"]), ("TicketOut", ["colour"])]


def test_an_event_records_only_what_its_schema_declares(client, demo, login):
    """Every action that writes an event's data, then every key written is declared
    (EventData), so no key is dropped from the events answer unseen."""
    resident, neighbour, grid, cadre = login("resident"), login("neighbour"), login("grid"), login("cadre")
    other_unit = db.session.execute(sa.select(Unit.id).where(Unit.code == "gz-demo-my-1")).scalar_one()
    original = report(client, resident).json["id"]
    act(client, grid, report(client, neighbour).json["id"], "return", reason="duplicate", duplicate_of=original)
    act(client, grid, report(client, neighbour).json["id"], "transfer", unit_id=other_unit, reason="属于民意社区")
    act(client, grid, original, "accept")
    act(client, cadre, original, "assign", assignee_id=user_id(client, cadre))
    for rating in ("dissatisfied", "satisfied"):
        act(client, cadre, original, "resolve", note="已处理", media=[photo(client, cadre)])
        act(client, resident, original, "rate", rating=rating)
    late = report(client, resident).json["id"]
    unrated = report(client, neighbour).json["id"]
    act(client, grid, unrated, "accept")
    act(client, grid, unrated, "resolve", note="已处理", media=[photo(client, grid)])
    sweep(now=utcnow() + timedelta(days=8))
    db.session.commit()
    written = db.session.execute(sa.select(TicketEvent.action, TicketEvent.data)).all()
    actions = {action for action, _ in written}
    assert {"report", "return", "merge", "transfer", "assign", "redo", "rate", "escalate", "close"} <= actions
    undeclared = {(action, key) for action, data in written for key in data or {} if key not in EventData().fields}
    assert not undeclared
    assert client.get(f"/api/v1/tickets/{late}/events", headers=grid).json["items"][-1]["data"]["late"] == "respond"


def test_the_export_answers_everything_the_operation_gathered(client, demo, login, fake_wechat):
    fake_wechat.add_phone_code("doc-1", phone="13700002222")
    me, other = login("me"), login("other")
    client.post("/api/v1/me/phone", json={"code": "doc-1"}, headers=me)
    mine = report(client, me, media=[photo(client, me)]).json["id"]
    client.post(f"/api/v1/tickets/{report(client, other).json['id']}/support", headers=me)
    client.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_progress": 1}}, headers=me)
    act(client, login("grid"), mine, "accept", note="收到")
    answered = client.get("/api/v1/me/export", headers=me).json
    with demo.test_request_context():  # photo addresses are built for a request
        gathered = json.loads(json.dumps(privacy.export(db.session.get(User, user_id(client, me)))))
    for export in (answered, gathered):  # signatures expire on the hour: compare the addresses alone
        for item in export["photos"]:
            item["url"] = item["url"].split("?")[0]
    assert answered["notifications"] and answered["supports"] and answered["photos"]
    assert {**answered, "exported_at": None} == {**gathered, "exported_at": None}
