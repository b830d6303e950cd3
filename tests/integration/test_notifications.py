"""The outbox and the worker against the fake WeChat: quota, permanent and transient
failures, an outage after which everything arrives exactly once, WeCom budgets."""
import json
from collections import Counter
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from server.auth.models import User
from server.extensions import db
from server.notifications.models import Notification, SubscriptionQuota
from server.notifications.outbox import notify
from server.notifications.worker import drain
from server.tickets import operations, timers
from server.timeutil import utcnow
from tests.api.helpers import act, report
from tests.conftest import agree

TEMPLATE_IDS = {"ticket_accepted": "tmpl-accepted", "ticket_answered": "tmpl-answered", "new_report": "tmpl-new",
                "task_assigned": "tmpl-task", "dissatisfied": "tmpl-dissatisfied", "escalated": "tmpl-escalated",
                "deadline_soon": "tmpl-due", "rate_reminder": "tmpl-rate"}


@pytest.fixture
def templates(app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_SUBSCRIBE_TEMPLATES", json.dumps(TEMPLATE_IDS))
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE_SECONDS", 5)
    return TEMPLATE_IDS


def _wechat_resident(client, fake_wechat, name):
    fake_wechat.add_login_code(f"code-{name}", f"openid-{name}")
    token = client.post("/api/v1/auth/login", json={"code": f"code-{name}"}).json["token"]
    agree(client, {"Authorization": f"Bearer {token}"})
    return {"Authorization": f"Bearer {token}"}, db.session.execute(
        sa.select(User).where(User.openid == f"openid-{name}")).scalar_one()


def _sent_to(fake_wechat, openid):
    return [m for m in fake_wechat.sent_messages if m["touser"] == openid]


def _notification_ids(messages):
    return [int(parse_qs(urlsplit(m["page"]).query)["n"][0]) for m in messages]


def test_outbox_row_shares_the_events_transaction(demo, templates, login):
    client = demo.test_client()
    tid = report(client, login("resident")).json["id"]
    before = db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one()
    ticket = operations.get_ticket(tid)
    grid = db.session.execute(sa.select(User).where(User.openid == "dev:grid")).scalar_one()
    operations.accept(ticket, grid)
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one() == before


def test_staff_hear_of_new_reports_and_the_reporter_of_each_step(demo, templates, login, fake_wechat):
    client = demo.test_client()
    headers, resident = _wechat_resident(client, fake_wechat, "amy")
    tid = report(client, headers).json["id"]
    grid = login("grid")
    act(client, grid, tid, "accept")
    rows = db.session.execute(sa.select(Notification).order_by(Notification.id)).scalars().all()
    staff = [r for r in rows if r.template == "new_report"]
    assert {db.session.get(User, r.user_id).openid for r in staff} == {"dev:grid", "dev:cadre"}
    assert all(r.channel == "inbox" for r in staff)          # dev accounts: no push, the inbox only
    mine = [r for r in rows if r.user_id == resident.id]
    assert [(r.template, r.channel, r.state) for r in mine] == [("ticket_accepted", "wechat", "pending")]


def test_one_time_quota_is_used_per_message_then_the_inbox_only(demo, templates, login, fake_wechat):
    client = demo.test_client()
    headers, resident = _wechat_resident(client, fake_wechat, "bob")
    assert client.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_accepted": 1}}, headers=headers).json[
        "quota"]["ticket_accepted"] == 1
    fake_wechat.grant_subscription("openid-bob", "tmpl-accepted", 1)
    grid = login("grid")
    first, second = report(client, headers).json["id"], report(client, headers).json["id"]
    act(client, grid, first, "accept")
    act(client, grid, second, "accept")
    drain()
    sent = _sent_to(fake_wechat, "openid-bob")
    assert len(sent) == 1 and sent[0]["template_id"] == "tmpl-accepted"
    assert sent[0]["page"].startswith(f"pages/ticket/ticket?id={first}") and sent[0]["miniprogram_state"] == "formal"
    assert client.get("/api/v1/me/subscriptions", headers=headers).json["quota"]["ticket_accepted"] == 0
    inbox = client.get("/api/v1/notifications", headers=headers).json
    assert [n["delivery"] for n in inbox["items"]] == ["no_quota", "sent"] and inbox["unread"] == 2


def test_long_term_template_needs_no_count(demo, templates, login, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_LONG_TERM_TEMPLATES", "ticket_accepted")
    client = demo.test_client()
    headers, _ = _wechat_resident(client, fake_wechat, "carl")
    fake_wechat.grant_subscription("openid-carl", "tmpl-accepted", 5)
    tid = report(client, headers).json["id"]
    act(client, login("grid"), tid, "accept")
    drain()
    assert len(_sent_to(fake_wechat, "openid-carl")) == 1


def test_43101_stops_with_the_reason_kept(demo, templates, login, fake_wechat):
    client = demo.test_client()
    headers, resident = _wechat_resident(client, fake_wechat, "dora")
    client.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_accepted": 2}}, headers=headers)
    tid = report(client, headers).json["id"]           # WeChat holds no grant for her: 43101
    act(client, login("grid"), tid, "accept")
    assert drain()["permanent"] == 1
    row = db.session.execute(sa.select(Notification).where(Notification.user_id == resident.id)).scalar_one()
    assert row.state == "failed" and row.last_error.startswith("43101")
    assert client.get("/api/v1/me/subscriptions", headers=headers).json["quota"]["ticket_accepted"] == 0
    assert drain(now=utcnow() + timedelta(days=1))["claimed"] == 0     # never retried


@pytest.mark.parametrize("errcode", [47003, 40003, 41030])
def test_other_permanent_errors_are_not_retried(demo, templates, login, fake_wechat, errcode):
    client = demo.test_client()
    headers, resident = _wechat_resident(client, fake_wechat, f"eve{errcode}")
    client.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_accepted": 1}}, headers=headers)
    fake_wechat.grant_subscription(f"openid-eve{errcode}", "tmpl-accepted", 1)
    fake_wechat.fail("cgi-bin/message/subscribe/send", errcode)
    act(client, login("grid"), report(client, headers).json["id"], "accept")
    drain()
    row = db.session.execute(sa.select(Notification).where(Notification.user_id == resident.id)).scalar_one()
    assert row.state == "failed" and row.last_error.startswith(str(errcode)) and row.attempts == 1


def test_outage_then_every_notification_arrives_exactly_once(demo, templates, login, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT", 1)
    app.extensions.pop("gongzhi.wechat", None)
    client = demo.test_client()
    people = [_wechat_resident(client, fake_wechat, f"out{i}") for i in range(6)]
    grid = login("grid")
    for headers, user in people:
        client.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_accepted": 1}}, headers=headers)
        fake_wechat.grant_subscription(user.openid, "tmpl-accepted", 1)
        act(client, grid, report(client, headers).json["id"], "accept")
    path = "cgi-bin/message/subscribe/send"
    fake_wechat.fail(path, -1, times=4)            # WeChat busy
    fake_wechat.http_error(path, 502, times=3)     # a gateway error
    fake_wechat.delay(path, 1.5, times=2)          # timeouts
    now = utcnow()
    for _ in range(30):
        drain(now=now)
        pending = db.session.execute(sa.select(sa.func.count(Notification.id)).where(
            Notification.template == "ticket_accepted", Notification.state != "sent")).scalar_one()
        if not pending:
            break
        now += timedelta(hours=1)
    try:
        openids = {u.openid for _, u in people}
        delivered = Counter(m["touser"] for m in fake_wechat.sent_messages if m["touser"] in openids)
        assert delivered == Counter({o: 1 for o in openids})
        rows = db.session.execute(sa.select(Notification).where(Notification.template == "ticket_accepted")).scalars().all()
        assert all(r.state == "sent" for r in rows) and max(r.attempts for r in rows) > 1
    finally:
        app.extensions.pop("gongzhi.wechat", None)


def test_wecom_cards_within_budget_then_a_digest(demo, templates, login, fake_wechat, app, monkeypatch):
    for key, value in {"WECOM_CORP_ID": fake_wechat.corp_id, "WECOM_SECRET": fake_wechat.corp_secret,
                       "WECOM_AGENT_ID": str(fake_wechat.agent_id), "WECOM_API_BASE": fake_wechat.base_url,
                       "WECOM_PER_MINUTE": 3}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("gongzhi.wecom", None)
    grid = db.session.execute(sa.select(User).where(User.openid == "dev:grid")).scalar_one()
    grid.wecom_userid = "wang.grid"
    db.session.commit()
    client = demo.test_client()
    resident = login("resident")
    before = len(fake_wechat.wecom_messages)
    for _ in range(2):
        report(client, resident)
    drain()
    cards = [m for m in fake_wechat.wecom_messages[before:] if m["touser"] == "wang.grid"]
    assert len(cards) == 2 and cards[0]["textcard"]["title"].startswith("新的群众反映")
    for _ in range(4):
        report(client, resident)
    drain()
    cards = [m for m in fake_wechat.wecom_messages[before:] if m["touser"] == "wang.grid"]
    assert len(cards) == 3 and cards[-1]["textcard"]["title"] == "您有 4 条新消息"
    assert db.session.execute(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == grid.id, Notification.state != "sent")).scalar_one() == 0
    app.extensions.pop("gongzhi.wecom", None)


def test_sweep_reminds_before_the_deadline_once(demo, templates, login):
    client = demo.test_client()
    resident, head = login("resident"), login("head")
    tid = report(client, resident, category="water_supply").json["id"]   # the street's; resolve in 24 h: 2 h ahead
    assert act(client, head, tid, "accept").status_code == 200
    ticket = operations.get_ticket(tid)
    timers.sweep(now=ticket.resolve_by - timedelta(hours=3))
    timers.sweep(now=ticket.resolve_by - timedelta(hours=1, minutes=30))
    timers.sweep(now=ticket.resolve_by - timedelta(hours=1))
    db.session.commit()
    reminders = db.session.execute(sa.select(Notification).where(Notification.template == "deadline_soon")).scalars().all()
    assert [db.session.get(User, r.user_id).openid for r in reminders] == ["dev:head"]


def test_inbox_read_and_unread(demo, login):
    client = demo.test_client()
    grid = login("grid")
    for _ in range(3):
        report(client, login("resident"))
    inbox = client.get("/api/v1/notifications?limit=2", headers=grid).json
    assert inbox["unread"] == 3 and len(inbox["items"]) == 2 and inbox["next_cursor"]
    first = inbox["items"][0]
    assert first["title"].startswith("新的群众反映") and first["delivery"] == "inbox" and first["read"] is False
    assert client.post(f"/api/v1/notifications/{first['id']}/read", headers=grid).json["unread"] == 2
    assert client.post(f"/api/v1/notifications/{first['id']}/read", headers=login("cadre")).status_code == 404
    assert client.post("/api/v1/notifications/read-all", headers=grid).json["unread"] == 0


def test_subscriptions_validation_and_config(client, templates, login):
    h = login("someone")
    assert client.post("/api/v1/me/subscriptions", json={"accepted": {"nope": 1}}, headers=h).status_code == 422
    assert client.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_accepted": -1}}, headers=h).status_code == 422
    assert client.post("/api/v1/me/subscriptions", json={"accepted": "x"}, headers=h).status_code == 422
    names = {t["name"]: t["template_id"] for t in client.get("/api/v1/config/subscriptions").json["templates"]}
    assert names["ticket_accepted"] == "tmpl-accepted"


def test_duplicate_dedupe_key_adds_nothing(demo):
    user = db.session.execute(sa.select(User).where(User.openid == "dev:grid")).scalar_one()
    for _ in range(3):
        notify(user.id, "escalated", title="t", body="b", dedupe_key="same-key")
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count(Notification.id)).where(
        Notification.dedupe_key == "same-key")).scalar_one() == 1


def test_a_batch_past_half_its_lease_hands_its_unsent_rows_back_with_their_subscriptions(ctx, fake_wechat,
                                                                                        monkeypatch):
    """WeChat slow: a batch stops sending at half its lease, so its lease is never taken over
    while it still sends; the rows it did not reach are due again, their quotas given back."""
    from tests.fakes.outbox import TEMPLATE, TEMPLATE_ID, fill

    monkeypatch.setitem(ctx.config, "WECHAT_SUBSCRIBE_TEMPLATES", json.dumps({TEMPLATE: TEMPLATE_ID}))
    ids = fill(fake_wechat, 3, users=1)
    before = len(fake_wechat.sent_messages)
    monkeypatch.setitem(ctx.config, "NOTIFY_LEASE_SECONDS", 0)
    assert drain() == {"handed_back": 3, "claimed": 3}
    rows = db.session.execute(sa.select(Notification).where(Notification.id.in_(ids))).scalars().all()
    assert {r.state for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    assert all(r.claim_token is None for r in rows)
    quota = db.session.execute(sa.select(SubscriptionQuota.remaining)).scalar_one()
    assert quota == 3 and len(fake_wechat.sent_messages) == before
    monkeypatch.setitem(ctx.config, "NOTIFY_LEASE_SECONDS", 120)
    assert drain()["sent"] == 3
    assert db.session.execute(sa.select(SubscriptionQuota.remaining)).scalar_one() == 0


def test_redis_down_each_accepted_send_is_committed_on_its_own(ctx, fake_wechat, monkeypatch, caplog):
    """No receipt store to be had: the worker commits each accepted row at once instead."""
    from tests.fakes.outbox import TEMPLATE, TEMPLATE_ID, fill

    monkeypatch.setitem(ctx.config, "WECHAT_SUBSCRIBE_TEMPLATES", json.dumps({TEMPLATE: TEMPLATE_ID}))
    monkeypatch.setitem(ctx.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    ctx.extensions.pop("gongzhi.notifications.receipts", None)
    ids = fill(fake_wechat, 4, users=2)
    before = len(fake_wechat.sent_messages)
    try:
        assert drain()["sent"] == 4
    finally:
        ctx.extensions.pop("gongzhi.notifications.receipts", None)
    rows = db.session.execute(sa.select(Notification).where(Notification.id.in_(ids))).scalars().all()
    assert {r.state for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert "outbox receipts: redis unavailable" in caplog.text
    delivered = Counter(_notification_ids(fake_wechat.sent_messages[before:]))
    assert set(delivered) == ids and set(delivered.values()) == {1}


def test_rows_taken_over_mid_batch_are_left_to_their_new_holder(ctx, fake_wechat, monkeypatch):
    """A batch that outlived its lease: another worker holds its rows now. The late batch
    records nothing for them and gives back no subscription (the new holder took its own)."""
    from server.notifications import worker
    from tests.fakes.outbox import TEMPLATE, TEMPLATE_ID, fill

    monkeypatch.setitem(ctx.config, "WECHAT_SUBSCRIBE_TEMPLATES", json.dumps({TEMPLATE: TEMPLATE_ID}))
    ids = fill(fake_wechat, 2, users=1)
    batch = worker.claim(10, utcnow())
    assert {j.id for j in batch.jobs} == ids and batch.quota_taken == ids
    users = {u.id: u for u in db.session.execute(sa.select(User.id, User.openid, User.wecom_userid))}
    db.session.execute(sa.update(Notification).values(claim_token="taken-over"))
    db.session.commit()
    fake_wechat.fail("cgi-bin/message/subscribe/send", -1, times=2)    # both to be retried
    worker._send(batch, users)
    worker._write_outcomes(batch)
    rows = db.session.execute(sa.select(Notification).where(Notification.id.in_(ids))).scalars().all()
    assert {(r.state, r.claim_token, r.attempts) for r in rows} == {("sending", "taken-over", 0)}
    assert db.session.execute(sa.select(SubscriptionQuota.remaining)).scalar_one() == 0
