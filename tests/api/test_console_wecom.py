"""Signing in to the console by scanning a WeCom QR code, against the fake WeCom (a real
HTTP server on 127.0.0.1, reached through wechatpy): the QR page sends the browser back
with a code, the code names a member, the member's staff account is signed in. A state not
bound to this browser, a used code, a member with no post, or no WeCom settings: refused."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from server.auth.models import User
from server.console.models import AuditEntry
from server.extensions import db


@pytest.fixture
def wecom(app, fake_wechat, monkeypatch):
    for key, value in {"WECOM_CORP_ID": fake_wechat.corp_id, "WECOM_SECRET": fake_wechat.corp_secret,
                       "WECOM_AGENT_ID": str(fake_wechat.agent_id), "WECOM_API_BASE": fake_wechat.base_url,
                       "WECOM_LOGIN_URL": fake_wechat.base_url.rstrip("/") + "/wwlogin/sso/login",
                       "PUBLIC_BASE_URL": "http://console.test"}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.pop("gongzhi.wecom", None)
    yield fake_wechat
    app.extensions.pop("gongzhi.wecom", None)


def _member(login_name: str, userid: str) -> None:
    user = db.session.execute(sa.select(User).where(User.openid == f"dev:{login_name}")).scalar_one()
    user.wecom_userid = userid
    db.session.commit()


def _scan(client, fake, userid: str | None):
    """The browser's trip: the console's link, WeCom's QR page (a member scans), and back."""
    start = client.get("/login/wecom")
    assert start.status_code == 303
    if userid:
        fake.wecom_scan(userid)
    page = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert page.status_code == 302, page.text
    back = urlsplit(page.headers["Location"])
    assert back.netloc == "console.test" and back.path == "/login/wecom/callback"
    return back, parse_qs(back.query)


def test_a_member_scans_and_is_signed_in(client, demo, wecom):
    _member("head", "zhang.head")
    assert "企业微信扫码登录" in client.get("/login").get_data(as_text=True)
    back, query = _scan(client, wecom, "zhang.head")
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert "街道主任张主任" in client.get("/").get_data(as_text=True)
    row = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "sign_in_wecom")).scalar_one()
    assert row.target.startswith("user:")
    # The code is used up: the same return trip again signs no one in.
    other = client.application.test_client()
    other.get("/login")
    again = other.get(f"{back.path}?{back.query}")
    assert again.status_code == 400  # this browser's sign-in cookie does not match the state
    assert other.get("/").status_code == 303


def test_refusals(client, demo, wecom):
    _member("grid", "wang.grid")
    _member("resident", "liu.resident")  # a member of the WeCom, but no staff post
    back, query = _scan(client, wecom, "liu.resident")
    refused = client.get(f"{back.path}?{back.query}")
    assert refused.status_code == 403 and "没有对应的在岗工作人员" in refused.get_data(as_text=True)
    back, query = _scan(client, wecom, "nobody.here")
    assert client.get(f"{back.path}?{back.query}").status_code == 403
    # A made-up code: WeCom refuses it, so does the console.
    state = query["state"][0]
    assert client.get(f"/login/wecom/callback?code=madeup&state={state}").status_code == 401
    # No code (the member declined) and a forged state.
    assert "已取消" in client.get(f"/login/wecom/callback?state={state}").get_data(as_text=True)
    back, query = _scan(client, wecom, "wang.grid")
    forged = client.get(f"/login/wecom/callback?code={query['code'][0]}&state=forged")
    assert forged.status_code == 400 and client.get("/").status_code == 303


def test_without_wecom_settings_there_is_no_wecom_sign_in(client, demo):
    assert "企业微信扫码登录" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/wecom").status_code == 404
    assert client.get("/login/wecom/callback?code=x&state=y").status_code == 404
