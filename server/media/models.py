"""Uploaded photos: re-encoded, stripped of metadata, stored behind the storage interface."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Media(db.Model):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    key: Mapped[str] = mapped_column(sa.String(191), index=True)  # a photo's address names it: who may see it
    thumb_key: Mapped[str] = mapped_column(sa.String(191), index=True)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # What took the photo ("ticket_event:12", "opinion:3", "topic_event:7"): set once, by
    # media.operations.attach, so a photo is attached at most once.
    attached_to: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    # The ticket event among those, for the ticket's read path.
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket_events.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
