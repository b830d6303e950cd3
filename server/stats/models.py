"""Frozen report cards: a snapshot (monthly supervision or public bulletin) and one row per
unit. Published at creation and never changed or deleted afterwards."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ..tickets.models import Ticket
from ..timeutil import UTCDateTime, utcnow
from .rates import Counters

MONTHLY, BULLETIN = "monthly", "bulletin"

# The report card reads a unit's tickets of a period: one index range per unit. Declared
# here, with the queries that need it, and created by this module's migration.
sa.Index("ix_tickets_unit_id_created_at", Ticket.unit_id, Ticket.created_at)


class ReportSnapshot(db.Model):
    __tablename__ = "report_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("kind", "first_month", "last_month"),
        sa.Index("ix_report_snapshots_kind_id", "kind", "id"),
        sa.CheckConstraint("kind IN ('monthly', 'bulletin')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    first_month: Mapped[str] = mapped_column(sa.String(7))   # "2026-09"
    last_month: Mapped[str] = mapped_column(sa.String(7))    # "2026-10"
    title: Mapped[str] = mapped_column(sa.String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())   # the moment the numbers were counted
    min_tickets: Mapped[int] = mapped_column()
    weights: Mapped[dict] = mapped_column(sa.JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rows: Mapped[list["ReportSnapshotUnit"]] = relationship(
        back_populates="snapshot", order_by="(ReportSnapshotUnit.depth, ReportSnapshotUnit.id)")

    @property
    def period(self) -> str:
        return self.first_month if self.first_month == self.last_month else f"{self.first_month}..{self.last_month}"


class ReportSnapshotUnit(db.Model):
    """One unit's numbers in a snapshot, over its subtree; names frozen with them."""

    __tablename__ = "report_snapshot_units"
    __table_args__ = (sa.UniqueConstraint("snapshot_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("report_snapshots.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column()  # as it was; no foreign key, a record of the past
    depth: Mapped[int] = mapped_column()
    unit_code: Mapped[str] = mapped_column(sa.String(64))
    unit_name: Mapped[str] = mapped_column(sa.String(128))
    unit_kind: Mapped[str] = mapped_column(sa.String(20))
    received: Mapped[int] = mapped_column()
    withdrawn_early: Mapped[int] = mapped_column()
    responded_in_time: Mapped[int] = mapped_column()
    not_to_resolve: Mapped[int] = mapped_column()
    resolved: Mapped[int] = mapped_column()
    resolved_on_time: Mapped[int] = mapped_column()
    satisfied: Mapped[int] = mapped_column()
    basically_satisfied: Mapped[int] = mapped_column()
    dissatisfied: Mapped[int] = mapped_column()
    unrated: Mapped[int] = mapped_column()
    overdue: Mapped[int] = mapped_column()
    redo: Mapped[int] = mapped_column()
    responded: Mapped[int] = mapped_column()
    respond_us: Mapped[int] = mapped_column(sa.BigInteger)
    resolve_us: Mapped[int] = mapped_column(sa.BigInteger)
    median_response_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    median_resolution_us: Mapped[int | None] = mapped_column(sa.BigInteger)
    score: Mapped[float | None] = mapped_column(sa.Numeric(9, 6, asdecimal=False))
    rank: Mapped[int | None] = mapped_column()
    ranked: Mapped[bool] = mapped_column()

    snapshot: Mapped[ReportSnapshot] = relationship(back_populates="rows")

    @property
    def counters(self) -> Counters:
        return Counters.from_row(self)


class ReportSnapshotCategory(db.Model):
    """One unit's counters for one category in a snapshot, over its subtree: what the console's
    dashboard sums for its categories (twelve frozen months, not a million live tickets)."""

    __tablename__ = "report_snapshot_categories"
    __table_args__ = (sa.UniqueConstraint("unit_id", "snapshot_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("report_snapshots.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    counters: Mapped[dict] = mapped_column(sa.JSON)  # rates.Counters.as_dict()


_FROZEN = (ReportSnapshot, ReportSnapshotUnit, ReportSnapshotCategory)


@event.listens_for(ReportSnapshot, "before_update")
@event.listens_for(ReportSnapshot, "before_delete")
@event.listens_for(ReportSnapshotUnit, "before_update")
@event.listens_for(ReportSnapshotUnit, "before_delete")
@event.listens_for(ReportSnapshotCategory, "before_update")
@event.listens_for(ReportSnapshotCategory, "before_delete")
def _published_is_final(mapper, connection, target):
    raise RuntimeError("published report cards are immutable")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes(state):
    """Bulk ORM UPDATE/DELETE skip the mapper events above; refuse them here."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in _FROZEN:
        raise RuntimeError("published report cards are immutable")
