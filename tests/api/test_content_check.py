"""msgSecCheck v2 on report text: risky is refused, review is held hidden, an outage holds it."""
from tests.api.helpers import report
from tests.conftest import agree


def _wechat_user(client, fake_wechat, code, openid):
    fake_wechat.add_login_code(code, openid)
    token = client.post("/api/v1/auth/login", json={"code": code}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    agree(client, headers)
    return headers


def test_risky_text_is_refused(client, demo, fake_wechat):
    fake_wechat.set_text_verdict("违禁词", "risky")
    h = _wechat_user(client, fake_wechat, "cc-1", "oc-1")
    res = report(client, h, description="这里有违禁词")
    assert res.status_code == 422 and res.json["message"] == "content_risky"
    sent = [c for c in fake_wechat.calls if c["path"] == "wxa/msg_sec_check"][-1]["json"]
    assert sent["version"] == 2 and sent["openid"] == "oc-1" and sent["content"] == "这里有违禁词"


def test_review_text_is_held_out_of_public_reads(client, demo, fake_wechat, login):
    fake_wechat.set_text_verdict("待审", "review")
    h = _wechat_user(client, fake_wechat, "cc-2", "oc-2")
    t = report(client, h, description="待审的内容，路灯坏了").json
    assert t["held"] is True
    assert client.get(f"/api/v1/tickets/{t['id']}").status_code == 404
    assert client.get("/api/v1/tickets/nearby?lat=30.57&lng=114.27").json["items"] == []
    assert client.get(f"/api/v1/tickets/{t['id']}", headers=h).status_code == 200
    assert client.get(f"/api/v1/tickets/{t['id']}", headers=login("grid")).status_code == 200


def test_check_outage_holds_the_report_instead_of_losing_it(client, demo, fake_wechat):
    h = _wechat_user(client, fake_wechat, "cc-3", "oc-3")
    fake_wechat.fail("wxa/msg_sec_check", -1, times=3)
    res = report(client, h)
    assert res.status_code == 201 and res.json["held"] is True


def test_clean_text_is_public(client, demo, fake_wechat):
    h = _wechat_user(client, fake_wechat, "cc-4", "oc-4")
    t = report(client, h, description="小区门口的路灯不亮了").json
    assert t["held"] is False and client.get(f"/api/v1/tickets/{t['id']}").status_code == 200
