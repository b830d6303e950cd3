"""PIPL: consent before the first report, a copy of my data, deleting my account, the
staff access log, retention; and the moderation queue for held reports."""
import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from server.extensions import db
from server.privacy.models import PersonalDataAccess
from server.tickets.models import Ticket
from server.timeutil import utcnow
from tests.api.helpers import act, get_photo, photo, report
from tests.conftest import agree
from tests.state import force_ticket


def test_no_report_before_consent(client, demo, login):
    h = login("newcomer", consent=False)
    res = report(client, h)
    assert res.status_code == 403 and res.json["message"] == "consent_required"
    assert res.json["errors"]["policy_version"]
    stale = client.post("/api/v1/me/consent", json={"policy_version": "2001-01"}, headers=h)
    assert stale.status_code == 422 and stale.json["message"] == "policy_outdated"
    before = client.get("/api/v1/me/consent", headers=h).json
    assert before["consented"] is False and before["accepted_at"] is None
    agree(client, h)
    state = client.get("/api/v1/me/consent", headers=h).json
    # The privacy centre shows which version was agreed to, and when.
    assert state["consented"] is True and state["policy_version"] == state["current_version"]
    assert state["accepted_at"] and state["accepted_at"].endswith("+00:00")
    assert report(client, h).status_code == 201


def test_export_has_everything_of_mine_and_nothing_of_others(client, demo, login, fake_wechat, media_store):
    fake_wechat.add_phone_code("exp-1", phone="13700001111")
    me, other = login("me"), login("other")
    client.post("/api/v1/me/phone", json={"code": "exp-1"}, headers=me)
    mine = report(client, me, media=[photo(client, me)], description="我家楼下路灯坏了").json["id"]
    report(client, other, description="别人的反映")
    data = client.get("/api/v1/me/export", headers=me).json
    assert data["user"]["phone"] == "13700001111"
    assert [t["id"] for t in data["tickets"]] == [mine] and data["tickets"][0]["events"][0]["action"] == "report"
    assert data["consents"] and "别人的反映" not in str(data)
    fetched = get_photo(client, data["photos"][0]["url"].removeprefix("http://localhost"))
    assert fetched.status_code == 200 and Image.open(io.BytesIO(fetched.data)).format == "JPEG"


def test_deleting_my_account_keeps_my_reports_public_and_anonymous(client, demo, login):
    me, neighbour = login("leaving"), login("staying")
    mine = report(client, me).json["id"]
    theirs = report(client, neighbour).json["id"]
    client.post(f"/api/v1/tickets/{theirs}/support", headers=me)
    assert client.get(f"/api/v1/tickets/{theirs}").json["supporters"] == 1
    assert client.delete("/api/v1/me", headers=me).status_code == 204
    assert client.get("/api/v1/me", headers=me).status_code == 401
    public = client.get(f"/api/v1/tickets/{mine}").json
    assert public["reporter"] == {"display": "匿名群众"} and public["status"] == "submitted"
    assert db.session.get(Ticket, mine).reporter_id is None
    assert client.get(f"/api/v1/tickets/{theirs}").json["supporters"] == 0


def test_staff_reads_of_reporter_data_are_logged(client, demo, login):
    resident = login("resident")
    tid = report(client, resident).json["id"]
    client.get(f"/api/v1/tickets/{tid}", headers=resident)           # the reporter: not logged
    client.get(f"/api/v1/tickets/{tid}", headers=login("neighbour"))  # the public sees no personal data
    client.get(f"/api/v1/tickets/{tid}", headers=login("grid"))
    page = client.get("/api/v1/tickets?scope=unit", headers=login("cadre")).json["items"]
    assert tid in [t["id"] for t in page] and all("phone_masked" not in t["reporter"] for t in page)  # lists show none
    client.get(f"/api/v1/tickets/{tid}", headers=login("cadre"))
    rows = db.session.execute(sa.select(PersonalDataAccess).order_by(PersonalDataAccess.id)).scalars().all()
    assert [(r.ticket_id, r.fields) for r in rows] == [(tid, "phone_masked"), (tid, "phone_masked")]
    assert len({r.staff_id for r in rows}) == 2 and all(r.subject_id for r in rows)


def test_retention_erases_the_reporter_link_of_old_closed_tickets(client, demo, login, app, monkeypatch):
    from server.tickets.timers import sweep

    monkeypatch.setitem(app.config, "PERSONAL_DATA_RETENTION_DAYS", 30)
    resident, grid = login("resident"), login("grid")
    old = report(client, resident).json["id"]
    fresh = report(client, resident).json["id"]
    act(client, grid, old, "return", reason="invalid", note="无效")
    act(client, grid, fresh, "return", reason="invalid", note="无效")
    force_ticket(old, closed_at=utcnow() - timedelta(days=31))
    db.session.commit()
    assert sweep()["personal_data_erased"] == 1
    db.session.commit()
    assert db.session.get(Ticket, old).reporter_id is None and db.session.get(Ticket, fresh).reporter_id is not None


def _held_ticket(client, fake_wechat, name):
    fake_wechat.set_text_verdict("请审核", "review")
    fake_wechat.add_login_code(f"mod-{name}", f"mod-openid-{name}")
    token = client.post("/api/v1/auth/login", json={"code": f"mod-{name}"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    agree(client, headers)
    t = report(client, headers, description="请审核：路灯坏了").json
    assert t["held"] is True
    return t["id"], headers


def test_moderators_approve_held_reports(client, demo, login, fake_wechat):
    tid, reporter = _held_ticket(client, fake_wechat, "a")
    grid = login("grid")
    assert [t["id"] for t in client.get("/api/v1/moderation/tickets", headers=grid).json["items"]] == [tid]
    assert client.get("/api/v1/moderation/tickets", headers=login("resident")).status_code == 403
    assert client.get("/api/v1/moderation/tickets", headers=login("deputy")).status_code == 403
    assert client.get(f"/api/v1/tickets/{tid}").status_code == 404
    deputy = client.post(f"/api/v1/moderation/tickets/{tid}/approve", json={}, headers=login("deputy"))
    assert deputy.status_code == 403                       # deputies deliberate; they do not moderate
    res = client.post(f"/api/v1/moderation/tickets/{tid}/approve", json={"note": "内容正常"}, headers=grid)
    assert res.status_code == 200 and res.json["held"] is False
    assert client.get(f"/api/v1/tickets/{tid}").status_code == 200
    events = client.get(f"/api/v1/tickets/{tid}/events", headers=grid).json["items"]
    assert "approve" in [e["action"] for e in events]
    assert "approve" not in [e["action"] for e in client.get(f"/api/v1/tickets/{tid}/events").json["items"]]
    again = client.post(f"/api/v1/moderation/tickets/{tid}/approve", json={}, headers=grid)
    assert again.status_code == 409 and again.json["message"] == "not_held"


def test_hidden_reports_never_appear_publicly(client, demo, login, fake_wechat):
    tid, reporter = _held_ticket(client, fake_wechat, "b")
    grid = login("grid")
    res = client.post(f"/api/v1/moderation/tickets/{tid}/hide", json={"reason": "含有他人隐私"}, headers=grid)
    assert res.status_code == 200 and res.json["held"] is True
    assert client.get(f"/api/v1/tickets/{tid}").status_code == 404
    assert client.get("/api/v1/tickets/nearby?lat=30.57&lng=114.27").json["items"] == []
    assert client.get("/api/v1/tickets/map?min_lat=30.5&min_lng=114.2&max_lat=30.7&max_lng=114.4").json["items"] == []
    assert client.get("/open311/v2/requests.json").json == []
    assert client.get(f"/api/v1/tickets/{tid}", headers=reporter).status_code == 200
    assert client.get("/api/v1/moderation/tickets", headers=grid).json["items"] == []
    inbox = client.get("/api/v1/notifications", headers=reporter).json["items"]
    assert inbox and "未通过审核" in inbox[0]["body"]


def test_export_and_deletion_cover_every_table_that_refers_to_a_user(client, demo, login):
    """A new table with a user column fails here until USER_REFERENCES says what the export
    and the account's deletion do with it, and its foreign key does that."""
    from server.privacy.operations import USER_REFERENCES

    found = {(table.name, fk.parent.name): fk.ondelete for table in db.metadata.sorted_tables
             for fk in table.foreign_keys if fk.column.table.name == "users"}
    assert set(found) == set(USER_REFERENCES)
    for column, (_, fate) in USER_REFERENCES.items():
        assert found[column] == {"delete": "CASCADE", "unlink": "SET NULL"}[fate], column
    headers = login("export-coverage")
    exported = client.get("/api/v1/me/export", headers=headers).json
    assert {section for section, _ in USER_REFERENCES.values() if section} <= set(exported)


def test_photos_of_what_one_may_not_read_are_not_served(client, demo, login, media_store):
    """A held report's photo, a staff-only note's photo and a new upload are served only under
    the signed address the service gave someone who may read them; a public one to anyone."""
    from tests.api.helpers import jpeg_bytes, upload

    resident, grid = login("photo-owner"), login("grid")
    fresh = upload(client, resident, jpeg_bytes((10, 200, 30))).json
    plain = fresh["url"].split("?")[0]
    assert get_photo(client, fresh["url"]).status_code == 200            # the uploader's signed address
    assert client.get(plain).status_code == 404                   # not filed yet: nobody else's
    assert client.get(plain + "?exp=99999999999&sig=" + "0" * 32).status_code == 404   # a forged signature
    tid = report(client, resident, media=[fresh["id"]]).json["id"]
    force_ticket(tid, held=True)
    db.session.commit()
    shown = client.get(f"/api/v1/tickets/{tid}", headers=resident).json["media"][0]
    assert "sig=" in shown["url"] and get_photo(client, shown["url"]).status_code == 200
    assert client.get(plain).status_code == 404                   # held: not the public's
    assert client.post(f"/api/v1/moderation/tickets/{tid}/approve", json={}, headers=grid).status_code == 200
    public = client.get(f"/api/v1/tickets/{tid}").json["media"][0]
    assert "sig=" not in public["url"] and get_photo(client, public["url"]).status_code == 200
    # A staff-only progress note's photo: staff get a signed address, the bare one is refused.
    cadre = login("cadre")
    act(client, grid, tid, "accept")
    from tests.api.helpers import user_id

    act(client, cadre, tid, "assign", assignee_id=user_id(client, cadre))
    note_photo = upload(client, cadre, jpeg_bytes((90, 10, 200))).json
    res = act(client, cadre, tid, "progress", note="内部：已联系物业", public=False, media=[note_photo["id"]])
    assert res.status_code == 200, res.json
    events = client.get(f"/api/v1/tickets/{tid}/events", headers=cadre).json["items"]
    internal = next(e for e in events if e["note"] == "内部：已联系物业")["media"][0]
    assert "sig=" in internal["url"] and get_photo(client, internal["url"]).status_code == 200
    assert client.get(internal["url"].split("?")[0]).status_code == 404
    public_events = client.get(f"/api/v1/tickets/{tid}/events", headers=resident).json["items"]
    assert all(e["note"] != "内部：已联系物业" for e in public_events)


def test_a_staff_member_who_deletes_their_account_stays_in_the_audit_trail(client, demo, login):
    """Who acted on a ticket and who read whose phone stay readable after a staff member
    deletes their account: their name alone is kept, and they can no longer sign in."""
    from server import crypto
    from server.auth.models import User
    from tests.api.helpers import user_id

    resident, temp = login("audit-reporter"), login("audit-temp-grid")
    reporter = db.session.execute(sa.select(User).where(User.openid == "dev:audit-reporter")).scalar_one()
    reporter.phone_enc = crypto.encrypt("13700001111")
    db.session.commit()
    staff_id = user_id(client, temp)
    from server.auth.operations import grant_post

    grant_post("dev:audit-temp-grid", "gz-demo-hq-1", "grid_worker")
    db.session.commit()
    tid = report(client, resident).json["id"]
    assert client.get(f"/api/v1/tickets/{tid}", headers=temp).json["reporter"]["phone_masked"] == "137****1111"
    assert act(client, temp, tid, "accept", note="收到").status_code == 200
    assert client.delete("/api/v1/me", headers=temp).status_code == 204
    kept = db.session.get(User, staff_id)
    assert kept is not None and kept.nickname == "audit-temp-grid" and kept.phone_enc is None and not kept.posts
    assert kept.openid != "dev:audit-temp-grid"
    assert set(db.session.execute(sa.select(PersonalDataAccess.staff_id).where(
        PersonalDataAccess.ticket_id == tid)).scalars()) == {staff_id}
    events = client.get(f"/api/v1/tickets/{tid}/events", headers=login("cadre")).json["items"]
    accept = next(e for e in events if e["action"] == "accept")
    assert accept["actor"]["display"] == "网格员 audit-temp-grid"
    assert client.get("/api/v1/me", headers=temp).status_code == 401
    again = client.post("/api/v1/auth/login", json={"code": "dev:audit-temp-grid"}).json
    assert again["user"]["id"] != staff_id  # a new, empty account


def test_a_resident_who_deletes_their_account_leaves_no_row(client, demo, login):
    from server.auth.models import User
    from tests.api.helpers import user_id

    headers = login("gone-resident")
    uid = user_id(client, headers)
    report(client, headers)
    assert client.delete("/api/v1/me", headers=headers).status_code == 204
    assert db.session.get(User, uid) is None


def test_deleting_my_account_deletes_my_unused_photos_and_keeps_my_reports(client, demo, login, media_store):
    """Photos no report took go with the account, bytes and all (on disk or in the bucket);
    a report's photo stays with the public record; bytes another upload shares stay."""
    from server.media.models import Media
    from tests.api.helpers import jpeg_bytes, upload

    me, neighbour = login("leaving-with-photos"), login("neighbour-with-photos")
    kept = upload(client, me, jpeg_bytes((1, 2, 3))).json
    tid = report(client, me, media=[kept["id"]]).json["id"]
    unused = upload(client, me, jpeg_bytes((200, 0, 0))).json
    shared = upload(client, me, jpeg_bytes((0, 200, 0))).json
    theirs = upload(client, neighbour, jpeg_bytes((0, 200, 0))).json  # the same picture: the same bytes
    rows = {m.id: m for m in db.session.execute(sa.select(Media)).scalars()}
    keys = {i: (rows[i].key, rows[i].thumb_key) for i in rows}
    assert keys[shared["id"]] == keys[theirs["id"]]
    db.session.rollback()
    assert client.delete("/api/v1/me", headers=me).status_code == 204
    assert {m.id for m in db.session.execute(sa.select(Media)).scalars()} == {kept["id"], theirs["id"]}
    assert media_store.keys() == sorted([*keys[kept["id"]], *keys[theirs["id"]]])
    assert get_photo(client, unused["url"]).status_code == 404   # the signed address leads nowhere
    assert get_photo(client, theirs["url"]).status_code == 200
    public = client.get(f"/api/v1/tickets/{tid}").json["media"][0]
    assert get_photo(client, public["url"]).status_code == 200


def test_unused_uploads_are_deleted_after_their_time(client, demo, login, app, media_store, monkeypatch):
    from server.media.models import Media
    from server.media.operations import sweep
    from tests.api.helpers import jpeg_bytes, upload

    monkeypatch.setitem(app.config, "MEDIA_UNUSED_HOURS", 48)
    me = login("slow-reporter")
    used = upload(client, me, jpeg_bytes((9, 9, 9))).json
    report(client, me, media=[used["id"]])
    upload(client, me, jpeg_bytes((90, 90, 90)))
    assert sweep(now=utcnow() + timedelta(hours=47)) == {"unused_photos_deleted": 0}
    db.session.commit()
    assert len(media_store.keys()) == 4
    assert sweep(now=utcnow() + timedelta(hours=49)) == {"unused_photos_deleted": 1}
    db.session.rollback()  # nothing is deleted unless the transaction commits
    assert len(media_store.keys()) == 4
    assert sweep(now=utcnow() + timedelta(hours=49)) == {"unused_photos_deleted": 1}
    db.session.commit()
    item = db.session.execute(sa.select(Media)).scalar_one()
    assert item.id == used["id"] and media_store.keys() == sorted([item.key, item.thumb_key])
