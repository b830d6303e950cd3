"""Delivering one claimed notification: quota, the send, and what the answer means.

Outcomes: sent; permanent failure (the reason kept, never retried: 43101 the user refused
or has no quota left at WeChat, 40003 bad openid, 47003 bad data, 41030 bad page, 40037
bad template); transient failure (WeChat busy, unreachable, 5xx, timeout: retried with
exponential backoff and jitter); no quota (a one-time template the user has not granted:
the notification stays in the inbox, marked so).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..errors import DomainError
from ..extensions import db
from ..wechat.service import WeChatError, get_wechat, get_wecom
from .models import Notification, SubscriptionQuota
from .outbox import long_term_templates, template_ids
from .templates import TEMPLATES, fit_bytes, message_data

PERMANENT = {40003, 40037, 41030, 43101, 47003, 43107}


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | permanent | no_quota
    reason: str = ""


def backoff(attempts: int, *, base: float, cap: float, rng=random.random) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential, capped, with jitter (50-100 %)."""
    delay = min(cap, base * (2 ** max(attempts - 1, 0)))
    return delay * (0.5 + rng() / 2)


def _take_quota(user_id: int, template: str) -> bool:
    """Use one one-time subscription of this template, atomically; False when none is left.

    Committed at once, before WeChat is called: no write transaction stays open across a
    network call (SQLite has one writer, and the token store may need to write).
    """
    used = db.session.execute(
        sa.update(SubscriptionQuota)
        .where(SubscriptionQuota.user_id == user_id, SubscriptionQuota.template == template,
               SubscriptionQuota.remaining > 0)
        .values(remaining=SubscriptionQuota.remaining - 1)
    ).rowcount
    db.session.commit()
    return used == 1


def _give_back_quota(user_id: int, template: str, *, all_gone: bool = False) -> None:
    values = {"remaining": 0} if all_gone else {"remaining": SubscriptionQuota.remaining + 1}
    db.session.execute(sa.update(SubscriptionQuota).where(
        SubscriptionQuota.user_id == user_id, SubscriptionQuota.template == template).values(**values))


def page_for(row: Notification) -> str:
    page = TEMPLATES[row.template].page
    subject = row.ticket_id or (row.data or {}).get("id")  # a ticket, or a topic or vote named in the data
    return f"{page}?id={subject}&n={row.id}" if subject else f"{page}?n={row.id}"


def send_wechat(row: Notification, user: User) -> Outcome:
    template = TEMPLATES[row.template]
    template_id = template_ids().get(row.template)
    if not template_id:
        return Outcome("permanent", "template not configured")
    one_time = row.template not in long_term_templates()
    if one_time and not _take_quota(user.id, row.template):
        return Outcome("no_quota")
    body = {
        "touser": user.openid,
        "template_id": template_id,
        "page": page_for(row),
        "data": message_data(template, row.data or {}),
        "miniprogram_state": current_app.config.get("WECHAT_MINIPROGRAM_STATE", "formal"),
        "lang": "zh_CN",
    }
    try:
        get_wechat().post("cgi-bin/message/subscribe/send", body)
    except WeChatError as err:
        if err.errcode in PERMANENT:
            if one_time and err.errcode == 43101:
                _give_back_quota(user.id, row.template, all_gone=True)
            return Outcome("permanent", f"{err.errcode} {err.errmsg}"[:255])
        if one_time:
            _give_back_quota(user.id, row.template)
        return Outcome("retry", f"{err.errcode} {err.errmsg}"[:255])
    except DomainError as err:
        if one_time:
            _give_back_quota(user.id, row.template)
        return Outcome("retry", err.key)
    return Outcome("sent")


def card_url(row: Notification) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/tickets/{row.ticket_id}" if row.ticket_id else base or "https://work.weixin.qq.com"


def send_wecom(rows: list[Notification], user: User) -> Outcome:
    """One text card, or a digest card standing for several notifications."""
    if len(rows) == 1:
        title, description, url = rows[0].title, rows[0].body, card_url(rows[0])
    else:
        title = f"您有 {len(rows)} 条新消息"
        description = "<br>".join(f"{r.title}：{r.body}" for r in rows[:10])
        url = card_url(rows[0])
    try:
        get_wecom().send_card(user.wecom_userid, fit_bytes(title, 128), fit_bytes(description, 512), url)
    except WeChatError as err:
        kind = "permanent" if err.errcode in (40003, 60111, 81013) else "retry"
        return Outcome(kind, f"{err.errcode} {err.errmsg}"[:255])
    except DomainError as err:
        return Outcome("retry", err.key)
    return Outcome("sent")


def wecom_sent_since(user_id: int, since: datetime) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.channel == "wecom",
            Notification.state == "sent", Notification.digested.is_(False), Notification.sent_at >= since)
    ).scalar_one()


def wecom_budget(user_id: int, now: datetime) -> tuple[int, int]:
    """Cards already sent to the member in the last minute and the last hour."""
    return wecom_sent_since(user_id, now - timedelta(minutes=1)), wecom_sent_since(user_id, now - timedelta(hours=1))
