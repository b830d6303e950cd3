"""The user's side: subscriptions granted in the mini-program, reading the inbox."""
from __future__ import annotations

import sqlalchemy as sa

from ..auth.actor import Actor
from ..db_setup import insert_skipping_duplicates
from ..errors import Invalid, NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from ..timeutil import utcnow
from .models import Notification, SubscriptionQuota
from .outbox import long_term_templates, template_ids
from .templates import TEMPLATES

MAX_QUOTA = 1000


def quotas(user: Actor) -> dict[str, int | None]:
    """Remaining one-time messages per template; None for long-term templates (no count)."""
    rows = dict(db.session.execute(
        sa.select(SubscriptionQuota.template, SubscriptionQuota.remaining).where(SubscriptionQuota.user_id == user.id)).all())
    long_term = long_term_templates()
    return {name: (None if name in long_term else rows.get(name, 0)) for name in template_ids()}


def record_subscriptions(user: Actor, accepted: dict[str, int]) -> dict[str, int | None]:
    """What the user accepted in wx.requestSubscribeMessage: each accepted tap adds one."""
    for name, count in accepted.items():
        if name not in TEMPLATES:
            raise Invalid(f"未知的消息模板: {name}", key="unknown_template")
        if count <= 0 or name in long_term_templates():
            continue
        # The row first (no savepoint: a deadlock between two devices ends the whole
        # transaction on MySQL, savepoint included), then one UPDATE adds the taps.
        db.session.connection().execute(
            insert_skipping_duplicates(SubscriptionQuota.__table__, "user_id", "template"),
            {"user_id": user.id, "template": name, "remaining": 0})
        least = sa.func.least if db.engine.dialect.name == "mysql" else sa.func.min
        db.session.execute(
            sa.update(SubscriptionQuota).where(SubscriptionQuota.user_id == user.id, SubscriptionQuota.template == name)
            .values(remaining=least(SubscriptionQuota.remaining + count, MAX_QUOTA)))
    db.session.flush()
    return quotas(user)


def inbox(user: Actor, limit: int = 20, cursor: str | None = None, unread_only: bool = False) -> dict:
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Notification.id < after[0])
    rows = db.session.execute(query.order_by(Notification.id.desc()).limit(limit + 1)).scalars().all()
    result = page(rows, limit, lambda n: [n.id])
    result["unread"] = unread_count(user)
    return result


def unread_count(user: Actor) -> int:
    return db.session.execute(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def mark_read(user: Actor, notification_id: int | None = None) -> int:
    """Mark one notification (or all, with no id) read; returns the unread count left."""
    query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        exists = db.session.execute(sa.select(Notification.id).where(
            Notification.id == notification_id, Notification.user_id == user.id)).first()
        if exists is None:
            raise NotFound("消息不存在", key="notification_not_found")
        query = query.where(Notification.id == notification_id)
    db.session.execute(query.values(read_at=utcnow()), execution_options={"synchronize_session": False})
    return unread_count(user)
