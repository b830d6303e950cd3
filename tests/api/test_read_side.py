"""The read side's shortcuts answer what a plain read would.

Units and categories come from a per-process directory, a new report answers from the
row it wrote, and a resident's consent is remembered once given: each is checked here
against what the database holds, on SQLite and MariaDB alike."""
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from server.extensions import db
from server.units.models import Unit
from tests.api.helpers import IN_HQ_1_1, act, photo, report, user_id


def test_new_report_answers_what_reading_it_back_shows(client, demo, login):
    """The 201 of a report (built from the row just written, with two photos) is exactly
    the ticket its reporter then reads."""
    resident = login("read-side-reporter")
    media = [photo(client, resident), photo(client, resident)]
    created = report(client, resident, media=media, address="花桥一区3栋", anonymous=True)
    assert created.status_code == 201, created.json
    read = client.get(f"/api/v1/tickets/{created.json['id']}", headers=resident)
    assert read.status_code == 200
    assert created.json == read.json
    assert [m["id"] for m in read.json["media"]] == media
    assert read.json["responsibles"] and read.json["unit"]["name"]


def test_every_action_answers_what_reading_it_back_shows(client, demo, login):
    """An action's answer (its history and rating written by plain INSERTs before the
    ticket's own flush) is exactly the ticket its actor then reads: the assignee's name
    after an assignment, the reporter's masked phone for staff, the rating for the reporter."""
    from server import crypto
    from server.auth.models import User

    resident, grid, cadre = login("read-side-actions"), login("grid"), login("cadre")
    me = db.session.execute(sa.select(User).where(User.openid == "dev:read-side-actions")).scalar_one()
    me.phone_enc = crypto.encrypt("13912345678")
    db.session.commit()
    tid = report(client, resident, media=[photo(client, resident)]).json["id"]
    due = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    steps = [(grid, "accept", {"note": "已收到"}),
             (cadre, "assign", {"assignee_id": user_id(client, cadre), "due_at": due, "note": "请处理"}),
             (cadre, "progress", {"note": "已联系", "media": [photo(client, cadre)]}),
             (cadre, "resolve", {"note": "已修好", "media": [photo(client, cadre)]}),
             (resident, "rate", {"rating": "satisfied", "comment": "很及时"})]
    for actor, action, body in steps:
        answer = act(client, actor, tid, action, **body)
        assert answer.status_code == 200, (action, answer.json)
        assert answer.json == client.get(f"/api/v1/tickets/{tid}", headers=actor).json, action
        assert answer.json["reporter"]["phone_masked"] == "139****5678"  # staff in scope, and the reporter
        if action == "assign":
            assert answer.json["assignee"]["display"] == client.get("/api/v1/me", headers=cadre).json["nickname"]
    assert answer.json["status"] == "closed" and answer.json["rating"]["comment"] == "很及时"


def test_unit_renamed_elsewhere_shows_within_the_ttl(client, demo, login, app):
    """A unit renamed by another process (a plain UPDATE, which this process's ORM never
    sees) is shown by its new name once UNIT_LOCATOR_TTL_SECONDS have passed."""
    resident = login("read-side-ttl")
    ticket = report(client, resident).json
    app.config["UNIT_LOCATOR_TTL_SECONDS"] = 0.5
    try:
        client.get(f"/api/v1/tickets/{ticket['id']}", headers=resident)  # cached from now
        with db.engine.begin() as conn:
            conn.execute(sa.update(Unit.__table__).where(Unit.__table__.c.id == ticket["unit"]["id"])
                         .values(name="花桥社区（新）"))
        assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=resident).json["unit"]["name"] == ticket["unit"]["name"]
        time.sleep(0.6)
        assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=resident).json["unit"]["name"] == "花桥社区（新）"
    finally:
        app.config["UNIT_LOCATOR_TTL_SECONDS"] = 5.0


def test_unit_renamed_here_shows_at_once(client, demo, login):
    """A change this process makes through the ORM drops the directory at once."""
    resident = login("read-side-orm")
    ticket = report(client, resident).json
    client.get(f"/api/v1/tickets/{ticket['id']}", headers=resident)
    db.session.get(Unit, ticket["unit"]["id"]).name = "花桥社区（改）"
    db.session.commit()
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=resident).json["unit"]["name"] == "花桥社区（改）"


def test_consent_is_asked_of_a_new_account_that_reuses_an_id(client, demo, login):
    """A resident who agreed, reported and deleted their account: the next new account
    (which SQLite may give the same id) is still asked to agree before reporting."""
    first = login("read-side-gone")
    assert report(client, first).status_code == 201
    assert client.delete("/api/v1/me", headers=first).status_code == 204
    second = login("read-side-new", consent=False)
    refused = report(client, second)
    assert refused.status_code == 403 and refused.json["message"] == "consent_required"


def test_staff_see_the_reporters_phone_masked_on_the_ticket_and_in_no_list(client, demo, login):
    """A ticket's page reads its reporter's phone with the ticket (one query): masked, and
    only for staff in scope; the staff list and the public read of the same ticket have none."""
    from server import crypto
    from server.auth.models import User

    resident = login("read-side-phone")
    ticket = report(client, resident, place=IN_HQ_1_1).json
    me = db.session.execute(sa.select(User).where(User.openid == "dev:read-side-phone")).scalar_one()
    me.phone_enc = crypto.encrypt("13812345678")
    db.session.commit()
    grid = login("grid")
    page = client.get("/api/v1/tickets?scope=unit&limit=100", headers=grid).json["items"]
    listed = next(item for item in page if item["id"] == ticket["id"])
    assert listed["reporter"] == {"display": "群众"}
    shown = client.get(f"/api/v1/tickets/{ticket['id']}", headers=grid).json
    assert shown["reporter"]["phone_masked"] == "138****5678"
    mine = client.get("/api/v1/tickets?scope=mine", headers=resident).json["items"]
    assert next(item for item in mine if item["id"] == ticket["id"])["reporter"]["phone_masked"] == "138****5678"
    public = client.get(f"/api/v1/tickets/{ticket['id']}", headers=login("read-side-other")).json
    assert "phone_masked" not in public["reporter"]


def test_a_staff_page_answers_what_the_plain_reads_show(client, demo, login):
    """A page of the staff list (one JSON object a row, units and categories from the
    directory, allowed actions worked out once per unit and status) against each ticket read
    plainly: the ORM row, its unit and category rows, and the transition table asked per ticket."""
    from server.auth.actor import Actor
    from server.auth.models import User
    from server.tickets import lifecycle as lc
    from server.tickets.models import Ticket
    from server.tickets.permissions import roles_for
    from tests.state import force_ticket

    resident, grid = login("read-side-page"), login("grid")
    ids = [report(client, resident, description=f"第{i}个问题").json["id"] for i in range(5)]
    act(client, grid, ids[0], "accept")
    act(client, grid, ids[1], "return", reason="needs_info", note="请补充")
    force_ticket(ids[2], held=True)
    db.session.commit()
    page = client.get("/api/v1/tickets?scope=unit&limit=20", headers=grid)
    assert page.status_code == 200
    shown = {item["id"]: item for item in page.json["items"]}
    assert set(ids) <= set(shown)
    actor = Actor.of_user(db.session.execute(sa.select(User).where(User.openid == "dev:grid")).scalar_one())
    for tid in ids:
        ticket, item = db.session.get(Ticket, tid), shown[tid]
        assert item["status"] == lc.Status(ticket.status).value and item["held"] == ticket.held
        assert item["unit"] == {"id": ticket.unit.id, "code": ticket.unit.code, "name": ticket.unit.name}
        assert item["category"]["code"] == ticket.category.code and item["version"] == ticket.version
        assert datetime.fromisoformat(item["created_at"]) == ticket.created_at
        plain = lc.allowed_actions(ticket.status, roles_for(actor, ticket), ticket)
        if ticket.status in lc.OPEN and not ticket.held and ticket.reporter_id != actor.id:
            plain.append("support")
        assert item["allowed_actions"] == plain, tid
