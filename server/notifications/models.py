"""The outbox, which is also each user's in-app inbox, and one-time subscription counts."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow

# Delivery states. `inbox`: nothing to push (no channel for this user or template);
# `no_quota`: a one-time template the user has no subscription count left for.
PENDING, SENDING, SENT, FAILED, NO_QUOTA, INBOX = "pending", "sending", "sent", "failed", "no_quota", "inbox"


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    template: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(sa.String(500))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(191), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(12))  # wechat | wecom | inbox
    state: Mapped[str] = mapped_column(sa.String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    digested: Mapped[bool] = mapped_column(default=False)  # delivered inside a WeCom digest
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SubscriptionQuota(db.Model):
    """How many one-time subscribe messages of a template the user has granted (taps add up)."""

    __tablename__ = "subscription_quotas"
    __table_args__ = (sa.UniqueConstraint("user_id", "template"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    template: Mapped[str] = mapped_column(sa.String(40))
    remaining: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
