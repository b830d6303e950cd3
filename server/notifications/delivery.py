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
    quota: str = ""  # a one-time subscription to give "back", or the user has none left: "gone"


def backoff(attempts: int, *, base: float, cap: float, rng=random.random) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential, capped, with jitter (50-100 %)."""
    delay = min(cap, base * (2 ** max(attempts - 1, 0)))
    return delay * (0.5 + rng() / 2)


def take_quotas(wanted: dict[tuple[int, str], int]) -> dict[tuple[int, str], int]:
    """Use one-time subscriptions for a batch: {(user id, template): rows} -> how many each
    pair may send. In the caller's transaction (the claim's), the quota rows locked on MySQL."""
    if not wanted:
        return {}
    t = SubscriptionQuota.__table__
    query = (sa.select(t.c.user_id, t.c.template, t.c.remaining)
             .where(t.c.user_id.in_({u for u, _ in wanted}), t.c.template.in_({tp for _, tp in wanted}))
             .order_by(t.c.id))
    if db.engine.dialect.name == "mysql":
        query = query.with_for_update()
    granted: dict[tuple[int, str], int] = {}
    for user_id, template, remaining in db.session.execute(query):
        want = wanted.get((user_id, template), 0)
        if want and remaining > 0:
            granted[(user_id, template)] = min(want, remaining)
    if granted:
        db.session.execute(
            sa.update(t).where(t.c.user_id == sa.bindparam("u"), t.c.template == sa.bindparam("tp"))
            .values(remaining=t.c.remaining - sa.bindparam("n")),
            [{"u": u, "tp": tp, "n": n} for (u, tp), n in granted.items()])
    return granted


def give_back_quotas(back: dict[tuple[int, str], int], gone: set[tuple[int, str]]) -> None:
    """Return the subscriptions of sends that failed for a passing reason; empty those WeChat
    says the user has none left of (43101). In the caller's transaction."""
    t = SubscriptionQuota.__table__
    where = (t.c.user_id == sa.bindparam("u"), t.c.template == sa.bindparam("tp"))
    if gone:
        db.session.execute(sa.update(t).where(*where).values(remaining=0), [{"u": u, "tp": tp} for u, tp in gone])
    back = {pair: n for pair, n in back.items() if pair not in gone}
    if back:
        db.session.execute(sa.update(t).where(*where).values(remaining=t.c.remaining + sa.bindparam("n")),
                           [{"u": u, "tp": tp, "n": n} for (u, tp), n in back.items()])


def page_for(row: Notification) -> str:
    page = TEMPLATES[row.template].page
    subject = row.ticket_id or (row.data or {}).get("id")  # a ticket, or a topic or vote named in the data
    return f"{page}?id={subject}&n={row.id}" if subject else f"{page}?n={row.id}"


def is_one_time(template: str) -> bool:
    return template not in long_term_templates()


def send_wechat(row: Notification, user: User) -> Outcome:
    """Send one subscribe message; for a one-time template the caller has taken its quota."""
    template = TEMPLATES[row.template]
    template_id = template_ids().get(row.template)
    if not template_id:
        return Outcome("permanent", "template not configured")  # no quota was taken for it
    one_time = is_one_time(row.template)
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
            gone = one_time and err.errcode == 43101
            return Outcome("permanent", f"{err.errcode} {err.errmsg}"[:255], quota="gone" if gone else "")
        return Outcome("retry", f"{err.errcode} {err.errmsg}"[:255], quota="back" if one_time else "")
    except DomainError as err:
        return Outcome("retry", err.key, quota="back" if one_time else "")
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
