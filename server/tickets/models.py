"""Tickets (the report, 作业单 -> 任务单 -> 答题单), their append-only events, supporters,
ratings."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from ..workflow import EventColumns, append_only
from .lifecycle import Status

if TYPE_CHECKING:
    from ..auth.models import User
    from ..categories.models import Category
    from ..units.models import Unit

_status_type = sa.Enum(Status, name="ticket_status", native_enum=False, create_constraint=True, length=20)


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.Index("ix_tickets_unit_id_id", "unit_id", "id"),
        sa.Index("ix_tickets_status_id", "status", "id"),
        sa.Index("ix_tickets_lat_lng", "lat", "lng"),
        # Nearby: open tickets in a small box (migration 9e7f00000001).
        sa.Index("ix_tickets_status_lat_lng", "status", "lat", "lng"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180", name="coordinates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(sa.Text)
    lat: Mapped[float] = mapped_column(sa.Double)  # WGS-84
    lng: Mapped[float] = mapped_column(sa.Double)
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[Status] = mapped_column(_status_type, default=Status.submitted)
    # True when no boundary contained the point: the ticket waits in the root unit's triage queue.
    triage: Mapped[bool] = mapped_column(default=False)
    # Held for moderation (content check said "review" or could not run): hidden from public reads.
    held: Mapped[bool] = mapped_column(default=False)
    # Hidden by a moderator: never shown publicly again (stays held).
    hidden: Mapped[bool] = mapped_column(default=False)
    # When the retention period erased the link to the reporter (tickets/timers.py).
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    priority: Mapped[str] = mapped_column(sa.String(10), default="normal")
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime())
    resolve_by: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue: Mapped[bool] = mapped_column(default=False)
    # The unit above, whose supervision list (督办) the ticket joined when it went overdue.
    supervising_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    redo_count: Mapped[int] = mapped_column(default=0)
    return_reason: Mapped[str | None] = mapped_column(sa.String(20))
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    rating: Mapped[str | None] = mapped_column(sa.String(20))  # the reporter's standing rating
    rating_comment: Mapped[str | None] = mapped_column(sa.String(500))
    supporters: Mapped[int] = mapped_column(default=0)
    # The report's photos as every read shows them, in order: [{"id", "key", "thumb_key"}].
    # Written with the report, whose photos never change afterwards, so that reading a
    # ticket or a page of them needs no second query for the photos.
    report_media: Mapped[list | None] = mapped_column(sa.JSON)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    category: Mapped["Category"] = relationship(lazy="joined")
    unit: Mapped["Unit"] = relationship(foreign_keys=[unit_id], lazy="joined")
    reporter: Mapped["User | None"] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])

    @property
    def due_at(self) -> datetime:
        return self.resolve_by


@append_only
class TicketEvent(EventColumns, db.Model):
    """One action on a ticket. Appended, never updated or deleted."""

    __tablename__ = "ticket_events"
    __table_args__ = (sa.Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    from_status: Mapped[Status | None] = mapped_column(
        sa.Enum(Status, name="event_from_status", native_enum=False, create_constraint=True, length=20))
    to_status: Mapped[Status] = mapped_column(
        sa.Enum(Status, name="event_to_status", native_enum=False, create_constraint=True, length=20))

    actor: Mapped["User | None"] = relationship()


class TicketSupport(db.Model):
    """附议 (me too): one per user and ticket."""

    __tablename__ = "ticket_supports"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@append_only
class TicketRating(db.Model):
    """A rating of an answer: by the reporter (counts for the report card) or by a resident of the unit."""

    __tablename__ = "ticket_ratings"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "user_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))  # indexed by the unique key
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    by_reporter: Mapped[bool] = mapped_column()
    round: Mapped[int] = mapped_column(default=0)  # the ticket's redo count when rated
    rating: Mapped[str] = mapped_column(sa.String(20))
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
