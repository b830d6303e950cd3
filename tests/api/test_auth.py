"""WeChat login, tokens, phone binding, dev login: through the test client against the fake WeChat."""
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server import crypto
from server.auth.models import AuthToken, User
from server.extensions import db
from server.timeutil import utcnow


def _login(client, code):
    return client.post("/api/v1/auth/login", json={"code": code})


def test_wechat_login_creates_user_and_keeps_session_key_private(client, fake_wechat, caplog):
    caplog.set_level(logging.DEBUG)
    fake_wechat.add_login_code("c-1", "openid-aaa", session_key="SeCrEtSeSsIoNkEy==", unionid="union-1")
    res = _login(client, "c-1")
    assert res.status_code == 200
    body = res.get_data(as_text=True)
    assert "SeCrEtSeSsIoNkEy" not in body and "session_key" not in body
    assert res.json["token"] and res.json["expires_at"].endswith("+00:00")
    user = db.session.execute(sa.select(User).where(User.openid == "openid-aaa")).scalar_one()
    assert user.unionid == "union-1"
    assert "SeCrEtSeSsIoNkEy" not in (user.session_key_enc or "")
    assert crypto.decrypt(user.session_key_enc) == "SeCrEtSeSsIoNkEy=="
    assert "SeCrEtSeSsIoNkEy" not in caplog.text
    assert fake_wechat.secret not in caplog.text
    token_row = db.session.execute(sa.select(AuthToken).where(AuthToken.user_id == user.id)).scalar_one()
    assert token_row.token_hash != res.json["token"]


def test_login_again_finds_the_same_user(client, fake_wechat):
    fake_wechat.add_login_code("c-a", "openid-same")
    fake_wechat.add_login_code("c-b", "openid-same")
    first = _login(client, "c-a").json["user"]["id"]
    assert _login(client, "c-b").json["user"]["id"] == first


def test_login_does_not_need_an_access_token(client, fake_wechat):
    fake_wechat.add_login_code("c-nt", "openid-nt")
    fake_wechat.http_error("cgi-bin/stable_token", 502, times=5)
    before = fake_wechat.count("cgi-bin/stable_token")
    assert _login(client, "c-nt").status_code == 200
    assert fake_wechat.count("cgi-bin/stable_token") == before


def test_token_authenticates_and_logout_revokes(client, fake_wechat):
    fake_wechat.add_login_code("c-2", "openid-bbb")
    token = _login(client, "c-2").json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    res = client.get("/api/v1/me", headers=headers)
    assert res.status_code == 401 and res.json["message"] == "unauthorized"


def test_expired_token_is_refused(client, login):
    headers = login("old-timer")
    db.session.execute(sa.update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nonsense", "Basic abc", "Bearer " + "x" * 5000])
def test_bad_authorization_headers_get_401(client, header):
    res = client.get("/api/v1/me", headers={"Authorization": header})
    assert res.status_code == 401 and res.json["message"] == "unauthorized"


@pytest.mark.parametrize("errcode, status, key", [
    (40029, 401, "invalid_code"),
    (40163, 401, "invalid_code"),
    (45011, 429, "too_frequent"),
    (40226, 403, "user_blocked"),
    (-1, 503, "wechat_unavailable"),
    (40125, 503, "wechat_misconfigured"),
    (61000, 502, "wechat_error"),
])
def test_wechat_errors_become_clear_answers(client, fake_wechat, errcode, status, key):
    fake_wechat.fail("sns/jscode2session", errcode)
    res = _login(client, "any-code")
    assert res.status_code == status
    assert res.json["message"] == key and res.json["errors"]["detail"]


def test_unknown_code_is_invalid_code(client):
    res = _login(client, "never-issued")
    assert res.status_code == 401 and res.json["message"] == "invalid_code"


def test_too_frequent_says_when_to_retry(client, fake_wechat):
    fake_wechat.fail("sns/jscode2session", 45011)
    assert _login(client, "x").headers["Retry-After"] == "60"


def test_wechat_http_failure_is_503(client, fake_wechat):
    fake_wechat.http_error("sns/jscode2session", 502)
    res = _login(client, "x")
    assert res.status_code == 503 and res.json["message"] == "wechat_unavailable"


def test_wechat_timeout_is_503(client, fake_wechat):
    fake_wechat.delay("sns/jscode2session", 3)  # the test config waits 2 s
    res = _login(client, "x")
    assert res.status_code == 503 and res.json["message"] == "wechat_unavailable"


def test_wechat_unreachable_is_503(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:9/")
    app.extensions.pop("gongzhi.wechat", None)
    try:
        res = _login(client, "x")
    finally:
        app.extensions.pop("gongzhi.wechat", None)
    assert res.status_code == 503 and res.json["message"] == "wechat_unavailable"


def test_dev_login_is_stable(client):
    first = _login(client, "dev:alice").json["user"]
    second = _login(client, "dev:alice").json["user"]
    assert first["id"] == second["id"] and first["nickname"] == "alice"


def test_dev_login_off_refuses_dev_codes(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEV_LOGIN", False)
    res = _login(client, "dev:alice")
    assert res.status_code == 401 and res.json["message"] == "invalid_code"


def test_phone_binding_is_encrypted_and_masked(client, fake_wechat):
    fake_wechat.add_login_code("c-p", "openid-phone")
    fake_wechat.add_phone_code("p-1", phone="13812345678")
    headers = {"Authorization": "Bearer " + _login(client, "c-p").json["token"]}
    res = client.post("/api/v1/me/phone", json={"code": "p-1"}, headers=headers)
    assert res.status_code == 200
    assert res.json["phone_masked"] == "138****5678"
    assert "13812345678" not in res.get_data(as_text=True)
    user = db.session.execute(sa.select(User).where(User.openid == "openid-phone")).scalar_one()
    assert "13812345678" not in user.phone_enc and crypto.decrypt(user.phone_enc) == "13812345678"
    assert client.get("/api/v1/me", headers=headers).json["phone_masked"] == "138****5678"


def test_phone_code_reused_is_refused(client, fake_wechat, login):
    fake_wechat.add_phone_code("p-2")
    headers = login("phone-user")
    assert client.post("/api/v1/me/phone", json={"code": "p-2"}, headers=headers).status_code == 200
    res = client.post("/api/v1/me/phone", json={"code": "p-2"}, headers=headers)
    assert res.status_code == 401 and res.json["message"] == "invalid_code"


def test_me_shows_posts(client, demo, login):
    res = client.get("/api/v1/me", headers=login("grid"))
    posts = res.json["posts"]
    assert [(p["role"], p["unit"]["code"]) for p in posts] == [("grid_worker", "gz-demo-hq-1")]
    assert posts[0]["role_label"] == "网格员"
