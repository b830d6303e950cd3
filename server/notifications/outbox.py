"""Writing notifications: a row in the caller's transaction, never a call to WeChat.

The row is the user's inbox item and the push job at once. Its channel is chosen here:
WeCom for staff who have a WeCom id (when configured), a WeChat subscribe message when
the template has a template id and the user came through WeChat, otherwise the inbox only.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import current_app

from ..auth.models import StaffPost, User, is_wechat_openid
from ..db_setup import insert_skipping_duplicates
from ..extensions import db
from ..timeutil import utcnow
from .models import INBOX, PENDING, Notification
from .templates import TEMPLATES


def template_ids() -> dict[str, str]:
    raw = current_app.config.get("WECHAT_SUBSCRIBE_TEMPLATES") or "{}"
    try:
        mapping = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        return {}
    return {name: tid for name, tid in mapping.items() if name in TEMPLATES and tid}


def long_term_templates() -> set[str]:
    raw = current_app.config.get("WECHAT_LONG_TERM_TEMPLATES") or ""
    return {name.strip() for name in raw.split(",") if name.strip()}


def wecom_configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("WECOM_CORP_ID") and cfg.get("WECOM_SECRET") and cfg.get("WECOM_AGENT_ID"))


def _channel(openid: str, wecom_userid: str | None, staff: bool, template: str) -> str:
    if wecom_userid and staff and wecom_configured():
        return "wecom"
    if is_wechat_openid(openid) and template in template_ids():
        return "wechat"
    return "inbox"


def notify(user_id: int, template: str, *, title: str, body: str, ticket_id: int | None = None,
           data: dict | None = None, dedupe_key: str | None = None) -> None:
    """Queue one notification for one user. A repeated dedupe_key adds nothing."""
    _queue({user_id: dedupe_key}, template, title, body, ticket_id, data)


def notify_many(user_ids, template: str, *, title: str, body: str, ticket_id: int | None = None,
                data: dict | None = None, dedupe_prefix: str | None = None, known=()) -> None:
    """Queue the same notification for several users; with a prefix, each row's dedupe key
    is "<prefix>:<user id>". `known`: rows the caller has already read for some of them
    (id, openid, wecom_userid, staff, as _RECIPIENTS answers), which are not read again."""
    _queue({uid: f"{dedupe_prefix}:{uid}" if dedupe_prefix else None for uid in user_ids if uid},
           template, title, body, ticket_id, data, known)


def _queue(keys: dict[int, str | None], template: str, title: str, body: str, ticket_id: int | None,
           data: dict | None, known=()) -> None:
    """One query for the recipients not `known`, one INSERT for their rows. A dedupe key
    already queued adds nothing: the INSERT skips it (IGNORE on MySQL/MariaDB, OR IGNORE
    on SQLite), where a savepoint per row would cost three statements each."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}")
    if not keys:
        return
    recipients = [row for row in known if row.id in keys]
    missing = keys.keys() - {row.id for row in recipients}
    if missing:
        recipients += db.session.execute(_RECIPIENTS, {"ids": sorted(missing)}).all()
    now = utcnow()
    rows = []
    for user in sorted(recipients, key=lambda r: r.id):
        channel = _channel(user.openid, user.wecom_userid, user.staff, template)
        rows.append({"user_id": user.id, "template": template, "title": title[:100], "body": body[:500],
                     "ticket_id": ticket_id, "data": data or {}, "dedupe_key": keys[user.id], "channel": channel,
                     "state": PENDING if channel != "inbox" else INBOX, "next_attempt_at": now, "created_at": now})
    if not rows:
        return
    db.session.execute(insert_skipping_duplicates(Notification.__table__, "dedupe_key"), rows)


_users, _posts = User.__table__, StaffPost.__table__
# Who the rows go to: the channel needs the openid, the WeCom id and whether they hold a post.
_RECIPIENTS = sa.select(
    _users.c.id, _users.c.openid, _users.c.wecom_userid,
    sa.exists().where(_posts.c.user_id == _users.c.id).label("staff"),
).where(_users.c.id.in_(sa.bindparam("ids", expanding=True)))
