"""The office console through the Flask test client: sign-in (password + TOTP), the
session's door (idle timeout, revocation), CSRF, the sign-in rate limit, scope (404), the
audit log, and the pages rendering."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server.auth import console as console_auth
from server.auth.models import ConsoleAccount, ConsoleSession, User
from server.console.models import AuditEntry
from server.demo import DEMO_CONSOLE
from server.extensions import db, limiter
from server.tickets.models import Ticket
from server.timeutil import utcnow
from tests.api.helpers import IN_HQ_1_1, IN_MY_1, act, report

ACCOUNTS = {login: (username, password, secret) for login, username, password, secret in DEMO_CONSOLE}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(res) -> str:
    found = CSRF.search(res.get_data(as_text=True))
    assert found, res.get_data(as_text=True)[:500]
    return found.group(1)


def code_at(secret: str, steps: int = 0) -> str:
    """The TOTP code `steps` intervals from now (each code is accepted once)."""
    return pyotp.TOTP(secret).at(time.time() + steps * 30)


def sign_in(client, who: str = "head", *, steps: int = 0, password: str | None = None, code: str | None = None):
    username, real_password, secret = ACCOUNTS[who]
    token = csrf_of(client.get("/login"))
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": real_password if password is None else password,
                                       "code": code_at(secret, steps) if code is None else code})


def signed_in(client, who: str = "head", steps: int = 0) -> str:
    """Signs in; returns the CSRF token of the signed-in pages."""
    res = sign_in(client, who, steps=steps)
    assert res.status_code == 303, res.get_data(as_text=True)[:800]
    page = client.get("/")
    assert page.status_code == 200, page.get_data(as_text=True)[:800]
    return csrf_of(page)


@pytest.fixture
def tickets(client, demo, login):
    """An accepted ticket in 花桥社区 (the street head's scope) and one in 民意社区 (not)."""
    resident, grid = login("console-resident"), login("grid")
    inside = report(client, resident, IN_HQ_1_1).json["id"]
    assert act(client, grid, inside, "accept").status_code == 200
    outside = report(client, resident, IN_MY_1).json["id"]
    return {"in": inside, "out": outside}


def test_pages_need_sign_in_and_the_public_page_does_not(client, demo):
    res = client.get("/tickets?scope=unit")
    assert res.status_code == 303 and res.headers["Location"].startswith("/login?next=")
    assert client.get("/public").status_code == 200
    assert "接诉即办公开成绩单" in client.get("/public").get_data(as_text=True)
    res = client.application.test_client().get("/login")
    assert res.status_code == 200 and "动态验证码" in res.get_data(as_text=True)
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "no-store" in res.headers["Cache-Control"] and "script-src 'self'" in res.headers["Content-Security-Policy"]
    css = client.get("/console/static/console.css")
    assert css.status_code == 200 and "Set-Cookie" not in css.headers
    assert "no-store" not in css.headers.get("Cache-Control", "")


def test_sign_in_with_password_and_totp(client, demo):
    res = sign_in(client)
    assert res.status_code == 303 and res.headers["Location"] == "/"
    cookie = [c for c in res.headers.getlist("Set-Cookie") if c.startswith("gz_console=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "花桥街道 工作台" in body and "退出登录" in body
    stored = db.session.execute(sa.select(ConsoleSession)).scalar_one()
    token = cookie.split(";")[0].split("=", 1)[1]
    assert stored.token_hash == console_auth.hash_token(token) and token not in stored.token_hash
    account = db.session.execute(sa.select(ConsoleAccount).where(ConsoleAccount.username == "street-head")).scalar_one()
    assert account.password_hash.startswith("$argon2id$")
    assert ACCOUNTS["head"][2] not in account.totp_secret_enc
    assert [e.action for e in db.session.execute(sa.select(AuditEntry)).scalars()] == ["sign_in"]


@pytest.mark.parametrize("wrong", ["code", "password", "username", "replayed"])
def test_wrong_totp_or_password_is_refused_alike(client, demo, wrong):
    if wrong == "replayed":
        used = code_at(ACCOUNTS["head"][2])
        assert sign_in(client, code=used).status_code == 303
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/"))})
        res = sign_in(client, code=used)  # the same code again
    elif wrong == "code":
        res = sign_in(client, code=code_at(ACCOUNTS["head"][2], steps=5))
    elif wrong == "password":
        res = sign_in(client, password="not-the-password")
    else:
        token = csrf_of(client.get("/login"))
        res = client.post("/login", data={"csrf_token": token, "username": "nobody", "password": "x" * 12,
                                          "code": "123456"})
    assert res.status_code == 401
    assert "用户名、密码或动态验证码不正确" in res.get_data(as_text=True)
    assert not any(c.startswith("gz_console=") for c in res.headers.getlist("Set-Cookie"))
    assert client.get("/").status_code == 303


def test_forms_without_their_csrf_token_are_refused(client, demo, tickets):
    # the sign-in form: no token, or a token of another browser
    client.get("/login")
    username, password, secret = ACCOUNTS["head"]
    res = client.post("/login", data={"username": username, "password": password, "code": code_at(secret)})
    assert res.status_code == 400 and "页面已过期" in res.get_data(as_text=True)
    token = signed_in(client, steps=1)
    before = db.session.get(Ticket, tickets["in"]).version
    for data, headers in (({}, {}), ({"csrf_token": "forged"}, {}), ({}, {"X-CSRF-Token": "forged"})):
        res = client.post(f"/tickets/{tickets['in']}/progress", data={"note": "x", **data}, headers=headers)
        assert res.status_code == 400, res.status
    res = client.post("/logout", data={})
    assert res.status_code == 400
    db.session.expire_all()
    assert db.session.get(Ticket, tickets["in"]).version == before
    # with the token (form field or the htmx header) the same requests pass
    assert client.get("/").status_code == 200
    res = client.post("/logout", headers={"X-CSRF-Token": token})
    assert res.status_code == 303


def test_sign_in_is_rate_limited_per_address(app, client, demo):
    saved = app.config["RATELIMIT_CONSOLE_LOGIN"]
    app.config["RATELIMIT_CONSOLE_LOGIN"] = "3/minute"
    limiter.reset()
    try:
        for _ in range(3):
            assert sign_in(client, password="wrong-password").status_code == 401
        res = sign_in(client)  # the right password, but too many attempts
        assert res.status_code == 429
        assert "操作太频繁" in res.get_data(as_text=True) and int(res.headers["Retry-After"]) >= 1
        other = app.test_client()
        token = csrf_of(other.get("/login"))
        username, password, secret = ACCOUNTS["head"]
        res = other.post("/login", data={"csrf_token": token, "username": username, "password": password,
                                         "code": code_at(secret)}, environ_base={"REMOTE_ADDR": "192.0.2.77"})
        assert res.status_code == 303  # another address has its own allowance
    finally:
        app.config["RATELIMIT_CONSOLE_LOGIN"] = saved
        limiter.reset()


def test_sign_in_is_rate_limited_per_username_across_addresses(app, client, demo, caplog):
    saved = app.config["RATELIMIT_CONSOLE_LOGIN_USER"]
    app.config["RATELIMIT_CONSOLE_LOGIN_USER"] = "2/hour"
    limiter.reset()
    try:
        username, password, secret = ACCOUNTS["head"]
        for n in range(2):
            token = csrf_of(client.get("/login"))
            res = client.post("/login", data={"csrf_token": token, "username": username, "password": "wrong-password",
                                              "code": "000000"}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
            assert res.status_code == 401
        token = csrf_of(client.get("/login"))
        res = client.post("/login", data={"csrf_token": token, "username": username, "password": password,
                                          "code": code_at(secret)}, environ_base={"REMOTE_ADDR": "198.51.100.9"})
        assert res.status_code == 429
        assert "console sign-in refused: username='street-head'" in caplog.text
        # another account is not held up
        assert sign_in(client, "admin").status_code == 303
    finally:
        app.config["RATELIMIT_CONSOLE_LOGIN_USER"] = saved
        limiter.reset()


def test_the_map_tiles_are_a_setting(app, client, demo):
    signed_in(client)
    assert '"tiles": ""' in client.get("/").get_data(as_text=True).replace('"tiles":""', '"tiles": ""')
    app.config["CONSOLE_TILES_URL"] = "https://{s}.tiles.example.cn/{z}/{x}/{y}.png"
    try:
        res = client.get("/")
        assert "tiles.example.cn/{z}/{x}/{y}.png" in res.get_data(as_text=True)
        assert "img-src 'self' data: blob: https://*.tiles.example.cn;" in res.headers["Content-Security-Policy"]
    finally:
        app.config["CONSOLE_TILES_URL"] = ""


def test_an_idle_session_lapses(app, client, demo):
    signed_in(client)
    idle = app.config["CONSOLE_IDLE_MINUTES"]
    assert idle == 30
    row = db.session.execute(sa.select(ConsoleSession)).scalar_one()
    db.session.execute(sa.update(ConsoleSession).where(ConsoleSession.id == row.id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=idle - 1)))
    db.session.commit()
    assert client.get("/").status_code == 200  # 29 minutes idle: still in
    db.session.execute(sa.update(ConsoleSession).where(ConsoleSession.id == row.id)
                       .values(last_seen_at=utcnow() - timedelta(minutes=idle + 1)))
    db.session.commit()
    res = client.get("/tickets")
    assert res.status_code == 303 and res.headers["Location"].startswith("/login")
    assert any(c.startswith("gz_console=;") for c in res.headers.getlist("Set-Cookie"))


def test_a_revoked_session_is_out_at_once(app, client, demo):
    signed_in(client, steps=-1)
    other = app.test_client()
    token = signed_in(other, steps=0)
    first = db.session.execute(sa.select(ConsoleSession).order_by(ConsoleSession.id)).scalars().first()
    page = other.get("/account/sessions").get_data(as_text=True)
    assert "本次登录" in page and "注销" in page
    res = other.post(f"/account/sessions/{first.id}/revoke", data={"csrf_token": token})
    assert res.status_code == 303
    res = client.get("/")
    assert res.status_code == 303 and res.headers["Location"].startswith("/login")
    assert other.get("/").status_code == 200
    # signing out revokes the session itself
    assert other.post("/logout", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert all(s.revoked_at is not None for s in db.session.execute(sa.select(ConsoleSession)).scalars())
    assert other.get("/").status_code == 303


def test_a_staff_action_goes_through_the_operation_and_is_audited(client, demo, tickets):
    token = signed_in(client)
    page = client.get(f"/tickets/{tickets['in']}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "办理经过" in body and 'id="form-assign"' in body
    cadre = db.session.execute(sa.select(User).where(User.openid == "dev:cadre")).scalar_one()
    version = db.session.get(Ticket, tickets["in"]).version
    res = client.post(f"/tickets/{tickets['in']}/assign",
                      data={"csrf_token": token, "assignee_id": cadre.id, "priority": "urgent",
                            "note": "请尽快处理", "version": version})
    assert res.status_code == 303, res.get_data(as_text=True)[:800]
    db.session.expire_all()
    ticket = db.session.get(Ticket, tickets["in"])
    assert ticket.status == "assigned" and ticket.assignee_id == cadre.id and ticket.priority == "urgent"
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "ticket.assign")).scalar_one()
    assert entry.target == f"ticket:{ticket.id}"
    assert entry.before["status"] == "accepted" and entry.before["assignee_id"] is None
    assert entry.after["status"] == "assigned" and entry.after["assignee_id"] == cadre.id
    assert entry.after["asked"]["note"] == "请尽快处理"
    assert entry.actor_name == "街道主任张主任"
    # a refused action (a stale version) changes nothing and writes no audit row
    res = client.post(f"/tickets/{tickets['in']}/progress", data={"csrf_token": token, "note": "进展", "version": version})
    assert res.status_code == 409
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "ticket.progress")).scalar_one() == 0
    # the district administrator reads it in the audit log; the street head may not open the log
    assert client.get("/admin/audit").status_code == 404
    admin = client.application.test_client()
    signed_in(admin, "admin")
    log = admin.get("/admin/audit?action=ticket.assign")
    assert log.status_code == 200 and f"ticket:{ticket.id}" in log.get_data(as_text=True)


def test_out_of_scope_is_404(client, demo, tickets):
    token = signed_in(client)
    my_unit = db.session.get(Ticket, tickets["out"]).unit_id
    assert client.get(f"/tickets/{tickets['out']}").status_code == 404
    assert client.post(f"/tickets/{tickets['out']}/accept", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/?unit={my_unit}").status_code == 404
    assert client.get(f"/tickets?unit={my_unit}").status_code == 404
    assert client.get("/tickets/99999999").status_code == 404
    assert db.session.get(Ticket, tickets["out"]).status == "submitted"
    # the district administrator reaches both
    admin = client.application.test_client()
    signed_in(admin, "admin")
    assert admin.get(f"/tickets/{tickets['out']}").status_code == 200
    assert admin.get(f"/?unit={my_unit}").status_code == 200


def test_the_desk_lists_by_scope_and_filters(client, demo, tickets):
    signed_in(client)
    body = client.get("/tickets?scope=unit").get_data(as_text=True)
    assert f"#{tickets['in']}" in body and f"#{tickets['out']}" not in body
    assert f"#{tickets['in']}" not in client.get("/tickets?scope=unit&status=closed").get_data(as_text=True)
    fragment = client.get("/tickets?scope=unit", headers={"HX-Request": "true", "HX-Target": "ticket-table"})
    assert fragment.get_data(as_text=True).startswith('<div id="ticket-table"')


def test_dev_sign_in_only_with_dev_login(app, client, demo):
    token = csrf_of(client.get("/login"))
    assert "开发环境一键登录" in client.get("/login").get_data(as_text=True)
    assert client.post("/login/dev", data={"csrf_token": token, "who": "head"}).status_code == 303
    assert client.get("/").status_code == 200
    app.config["DEV_LOGIN"] = False
    try:
        other = app.test_client()
        page = other.get("/login").get_data(as_text=True)
        assert "开发环境一键登录" not in page
        assert other.post("/login/dev", data={"csrf_token": csrf_of(other.get("/login")), "who": "head"}
                          ).status_code == 404
    finally:
        app.config["DEV_LOGIN"] = True


def test_only_staff_use_the_console(app, client, demo):
    resident = db.session.execute(sa.select(User).where(User.openid == "dev:resident")).scalar_one()
    console_auth.set_credentials(resident, "resident-liu", "resident-password", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    db.session.commit()
    token = csrf_of(client.get("/login"))
    res = client.post("/login", data={"csrf_token": token, "username": "resident-liu", "password": "resident-password",
                                      "code": code_at("JBSWY3DPEHPK3PXPJBSWY3DP")})
    assert res.status_code == 303
    assert client.get("/").status_code == 403
    assert client.post("/logout", data={"csrf_token": csrf_of(client.get("/public"))}).status_code == 303
    assert client.get("/public").status_code == 200 and client.get("/").status_code == 303


def test_console_user_command_prints_the_provisioning_uri(app, demo):
    runner = CliRunner()
    from server.cli import console_user_command

    with app.app_context():
        result = runner.invoke(console_user_command, ["dev:cadre", "--username", "li-cadre",
                                                      "--password", "a-long-password"], obj=None,
                               standalone_mode=False)
    assert result.exception is None, result.output
    assert "otpauth://totp/" in result.output and "li-cadre" in result.output
    account = db.session.execute(sa.select(ConsoleAccount).where(ConsoleAccount.username == "li-cadre")).scalar_one()
    assert account.password_hash.startswith("$argon2id$")
    short = runner.invoke(console_user_command, ["dev:cadre", "--username", "li-cadre", "--password", "short"])
    assert short.exit_code == 1


def test_resolve_with_a_photo_through_the_console(client, demo, tickets):
    from io import BytesIO

    from tests.api.helpers import jpeg_bytes

    token = signed_in(client)
    version = db.session.get(Ticket, tickets["in"]).version
    # without a photo the operation refuses (422) and nothing is written
    res = client.post(f"/tickets/{tickets['in']}/resolve", data={"csrf_token": token, "note": "已修复", "version": version})
    assert res.status_code == 422 and "至少一张" in res.get_data(as_text=True)
    res = client.post(f"/tickets/{tickets['in']}/resolve", content_type="multipart/form-data",
                      data={"csrf_token": token, "note": "路灯已修复", "version": version,
                            "photos": (BytesIO(jpeg_bytes()), "fixed.jpg")})
    assert res.status_code == 303, res.get_data(as_text=True)[:800]
    page = client.get(f"/tickets/{tickets['in']}").get_data(as_text=True)
    assert "路灯已修复" in page and 'alt="办理照片 1"' in page
    db.session.expire_all()
    assert db.session.get(Ticket, tickets["in"]).status == "resolved"
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "ticket.resolve")).scalar_one()
    assert entry.before["status"] == "accepted" and entry.after["status"] == "resolved"
    assert len(entry.after["asked"]["media"]) == 1


def test_an_administrator_revokes_anyones_session(app, client, demo):
    signed_in(client)  # the street head
    admin = app.test_client()
    token = signed_in(admin, "admin")
    listed = admin.get("/admin/sessions").get_data(as_text=True)
    assert "street-head" in listed and "本次登录" in listed
    head_session = db.session.execute(sa.select(ConsoleSession).order_by(ConsoleSession.id)).scalars().first()
    assert client.get("/admin/sessions").status_code == 404  # administrators only
    res = client.post(f"/admin/sessions/{head_session.id}/revoke", data={"csrf_token": csrf_of(client.get("/"))})
    assert res.status_code == 404
    assert admin.post(f"/admin/sessions/{head_session.id}/revoke", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "session.revoke")).scalar_one()
    assert entry.target == f"session:{head_session.id}" and entry.actor_name == "区管理员"


def test_changing_ones_password_signs_every_session_out(app, client, demo):
    username, password, secret = ACCOUNTS["head"]
    token = signed_in(client, steps=-1)
    other = app.test_client()
    signed_in(other, steps=0)
    res = client.post("/account/password", data={"csrf_token": token, "current": "wrong-password",
                                                  "code": code_at(secret, 1), "new": "a-new-password", "again": "a-new-password"})
    assert res.status_code == 401
    res = client.post("/account/password", data={"csrf_token": token, "current": password, "code": code_at(secret, 1),
                                                  "new": "a-new-password", "again": "a-new-password"})
    assert res.status_code == 303 and res.headers["Location"] == "/login?done=password"
    assert client.get("/").status_code == 303 and other.get("/").status_code == 303
    # the code just used is not good again, even with the new password
    fresh = app.test_client()
    login_token = csrf_of(fresh.get("/login"))
    assert fresh.post("/login", data={"csrf_token": login_token, "username": username, "password": "a-new-password",
                                      "code": code_at(secret, 1)}).status_code == 401
    assert db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "password.change")).scalar_one()


def test_the_session_cookie_is_secure_over_https_and_when_forced(app, demo):
    https = app.test_client()
    token = csrf_of(https.get("/login", base_url="https://localhost"))
    username, password, secret = ACCOUNTS["head"]
    res = https.post("/login", base_url="https://localhost",
                     data={"csrf_token": token, "username": username, "password": password, "code": code_at(secret)})
    cookie = [c for c in res.headers.getlist("Set-Cookie") if c.startswith("gz_console=")][0]
    assert "Secure" in cookie and "HttpOnly" in cookie
    app.config["CONSOLE_COOKIE_SECURE"] = "1"
    try:
        assert "Secure" in app.test_client().get("/login").headers["Set-Cookie"]  # even over http
    finally:
        app.config["CONSOLE_COOKIE_SECURE"] = "auto"
    assert "Secure" not in app.test_client().get("/login").headers["Set-Cookie"]  # testing over http
