"""Signing in and out of the console, one's own sessions, and the audit log."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort, current_app, redirect, request, url_for

from ..auth import console as console_auth
from ..auth.models import User
from ..errors import DomainError
from ..extensions import db
from ..ops.ratelimit import rate_limit
from ..paging import decode_cursor, encode_cursor
from ..units.scope import has_role
from .models import AuditEntry
from .web import actor, bp, here, page, public, record, render, signed

log = logging.getLogger(__name__)
DEV_ACCOUNTS = {"head": "街道主任（花桥街道）", "admin": "区管理员（共治示范区）", "cadre": "社区干部（花桥社区）"}


def _next_target() -> str:
    target = request.values.get("next") or ""
    # Only a path of this site: never another host (//evil, https://...).
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("console.dashboard")
    return target


@bp.get("/login")
@public
def login():
    if signed() is not None:
        return redirect(_next_target(), 303)
    return render("console/login.html", next=request.args.get("next", ""), dev_accounts=DEV_ACCOUNTS)


def _username_key() -> str:
    """A rate-limit key: the username tried, whichever address tries it (slow guessing
    spread over many addresses)."""
    return "console-user:" + request.form.get("username", "").strip().lower()[:64]


@bp.post("/login")
@public
@rate_limit("RATELIMIT_CONSOLE_LOGIN")
@rate_limit("RATELIMIT_CONSOLE_LOGIN_USER", key=_username_key)
def login_submit():
    form = request.form
    try:
        user = console_auth.authenticate(form.get("username", ""), form.get("password", ""), form.get("code", ""))
    except DomainError as err:
        log.warning("console sign-in refused: username=%r address=%s", form.get("username", "")[:64],
                    request.remote_addr or "unknown")
        return render("console/login.html", err.status, error=err.detail, username=form.get("username", ""),
                      next=form.get("next", ""), dev_accounts=DEV_ACCOUNTS)
    return sign_in_as(user, "sign_in")


@bp.post("/login/dev")
@public
@rate_limit("RATELIMIT_CONSOLE_LOGIN")
def login_dev():
    """DEV_LOGIN only: one click signs in as a demo staff member (never in production)."""
    who = request.form.get("who", "")
    if not current_app.config.get("DEV_LOGIN") or who not in DEV_ACCOUNTS:
        abort(404)
    user = db.session.execute(sa.select(User).where(User.openid == f"dev:{who}")).scalar()
    if user is None or not user.posts:
        abort(404)
    return sign_in_as(user, "sign_in_dev")


def sign_in_as(user: User, action: str):
    """A new console session for `user` (its cookie set on the answer), audited as `action`."""
    from ..auth.actor import Actor

    token = console_auth.open_session(user, request.headers.get("User-Agent", ""))
    here()["console_new_token"] = token
    record(action, f"user:{user.id}", None, {"address": request.remote_addr or ""}, who=Actor.of_user(user))
    return redirect(_next_target(), 303)


@bp.post("/logout")
def logout():
    found = signed()
    if found is not None:
        console_auth.revoke(found.session_id)
        record("sign_out", f"session:{found.session_id}")
    here()["console_clear_cookie"] = True
    return redirect(url_for("console.login"), 303)


@bp.get("/account/sessions")
def my_sessions():
    found = signed()
    rows = console_auth.sessions_of(actor().id)
    return render("console/sessions.html", rows=rows, current=found.session_id if found else None,
                  is_live=console_auth.is_live)


@bp.post("/account/sessions/<int:session_id>/revoke")
def revoke_session(session_id: int):
    if not console_auth.revoke(session_id, actor().id):
        abort(404)
    record("session.revoke", f"session:{session_id}", {"revoked": False}, {"revoked": True})
    return redirect(url_for("console.my_sessions", done="revoked"), 303)


@bp.get("/account/password")
def password_form():
    return render("console/password.html")


@bp.post("/account/password")
@rate_limit("RATELIMIT_CONSOLE_LOGIN")
def password_change():
    form = request.form
    who = actor()
    if form.get("new", "") != form.get("again", ""):
        return render("console/password.html", 422, error="两次输入的新密码不一致")
    user = db.session.get(User, who.id)
    try:
        console_auth.change_password(user, form.get("current", ""), form.get("code", ""), form.get("new", ""))
    except DomainError as err:
        return render("console/password.html", err.status, error=err.detail)
    record("password.change", f"user:{who.id}")
    here()["console_clear_cookie"] = True
    return redirect(url_for("console.login", done="password"), 303)


@bp.get("/admin/sessions")
@page("在线会话", order=80, roles=("admin",))
def all_sessions():
    """Every live console session (administrators), each revocable."""
    found = signed()
    return render("console/all_sessions.html", rows=console_auth.live_sessions(),
                  current=found.session_id if found else None)


@bp.post("/admin/sessions/<int:session_id>/revoke")
def admin_revoke_session(session_id: int):
    if not has_role(actor(), ("admin",)):
        abort(404)
    if not console_auth.revoke(session_id):
        abort(404)
    record("session.revoke", f"session:{session_id}", {"revoked": False}, {"revoked": True, "by": "admin"})
    return redirect(url_for("console.all_sessions", done="revoked"), 303)


@bp.get("/admin/audit")
@page("审计日志", order=90, roles=("admin",))
def audit_log():
    """Every change made through the console, newest first (administrators)."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(AuditEntry.action == action)
    after = decode_cursor(request.args.get("cursor"), 1)
    if after:
        query = query.where(AuditEntry.id < after[0])
    rows = list(db.session.execute(query.limit(51)).scalars())
    more = encode_cursor([rows[49].id]) if len(rows) > 50 else None
    return render("console/audit.html", rows=rows[:50], next_cursor=more, action=action)
