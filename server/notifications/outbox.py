"""Writing notifications: a row in the caller's transaction, never a call to WeChat.

The row is the user's inbox item and the push job at once. Its channel is chosen here:
WeCom for staff who have a WeCom id (when configured), a WeChat subscribe message when
the template has a template id and the user came through WeChat, otherwise the inbox only.
"""
from __future__ import annotations

import json

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
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


def channel_for(user: User, template: str) -> str:
    if user.wecom_userid and user.posts and wecom_configured():
        return "wecom"
    if user.from_wechat and template in template_ids():
        return "wechat"
    return "inbox"


def notify(user_id: int, template: str, *, title: str, body: str, ticket_id: int | None = None,
           data: dict | None = None, dedupe_key: str | None = None) -> None:
    """Queue one notification for one user. A repeated dedupe_key adds nothing."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}")
    user = db.session.get(User, user_id)
    if user is None:
        return
    channel = channel_for(user, template)
    row = Notification(user_id=user.id, template=template, title=title[:100], body=body[:500],
                       ticket_id=ticket_id, data=data or {}, dedupe_key=dedupe_key, channel=channel,
                       state=PENDING if channel != "inbox" else INBOX, next_attempt_at=utcnow())
    if dedupe_key is None:
        db.session.add(row)
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        pass  # already queued
