"""Signing in to the console by scanning a WeCom (企业微信) QR code: the console sends the
browser to WeCom's QR page with a state bound to its sign-in cookie; WeCom sends it back
with a code, which the server turns into the member's userid (user/getuserinfo, through
wechatpy) and that into a staff account (`users.wecom_userid`)."""
from __future__ import annotations

import hmac
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import abort, current_app, redirect, request, url_for

from ..auth.models import User
from ..extensions import db
from ..ops.ratelimit import rate_limit
from ..wechat.service import get_wecom
from .auth_views import DEV_ACCOUNTS, sign_in_as
from .web import bp, csrf_token, public, render


def enabled() -> bool:
    cfg = current_app.config
    return bool(cfg.get("WECOM_CORP_ID") and cfg.get("WECOM_SECRET") and cfg.get("WECOM_AGENT_ID"))


def _callback() -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")
    return base + url_for("console.login_wecom_callback")


@bp.context_processor
def _offer():
    return {"wecom_login": enabled()}


@bp.get("/login/wecom")
@public
def login_wecom():
    """To WeCom's QR page; `state` is the sign-in form's CSRF token (bound to its cookie)."""
    if not enabled():
        abort(404)
    cfg = current_app.config
    query = urlencode({"login_type": "CorpApp", "appid": cfg["WECOM_CORP_ID"], "agentid": cfg["WECOM_AGENT_ID"],
                       "redirect_uri": _callback(), "state": csrf_token()})
    return redirect(f"{cfg['WECOM_LOGIN_URL']}?{query}", 303)


def _refused(message: str, status: int = 401):
    return render("console/login.html", status, error=message, next="", dev_accounts=DEV_ACCOUNTS)


@bp.get("/login/wecom/callback")
@public
@rate_limit("RATELIMIT_CONSOLE_LOGIN")
def login_wecom_callback():
    if not enabled():
        abort(404)
    state = request.args.get("state", "")
    if not state or not hmac.compare_digest(state, csrf_token()):
        return _refused("登录已过期或来源不明，请重新扫码", 400)
    code = request.args.get("code", "")
    if not code:
        return _refused("已取消企业微信登录", 400)
    userid = get_wecom().member_of_code(code[:128])
    if userid is None:
        return _refused("企业微信登录未成功，请重新扫码")
    user = db.session.execute(sa.select(User).where(User.wecom_userid == userid)).scalars().first()
    if user is None or not user.posts:
        return _refused("这个企业微信账号没有对应的在岗工作人员，请联系管理员", 403)
    return sign_in_as(user, "sign_in_wecom")
