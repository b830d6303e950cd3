"""Governance units: a tree of any depth, each with an optional boundary and named responsible people."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow

UNIT_KINDS = {
    "province": "省",
    "city": "市",
    "district": "区",
    "county": "县",
    "street": "街道",
    "township": "乡镇",
    "community": "社区",
    "village": "村",
    "compound": "小区",
    "group": "村民小组",
    "building": "楼栋",
    "grid": "网格",
}


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    depth: Mapped[int] = mapped_column(default=0)
    # Materialised path of ids, "/1/4/9/": a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(sa.String(255), index=True, default="/")
    # GeoJSON geometry, WGS-84. Deferred: every ticket loads its unit, and a real boundary
    # runs to many kilobytes that only routing (which selects it itself) and the unit's own
    # page (which asks for it) need.
    boundary: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    # The boundary's extent: written on import, read by no request (deferred with it).
    min_lng: Mapped[float | None] = mapped_column(sa.Double, deferred=True, deferred_group="extent")
    min_lat: Mapped[float | None] = mapped_column(sa.Double, deferred=True, deferred_group="extent")
    max_lng: Mapped[float | None] = mapped_column(sa.Double, deferred=True, deferred_group="extent")
    max_lat: Mapped[float | None] = mapped_column(sa.Double, deferred=True, deferred_group="extent")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    parent: Mapped["Unit | None"] = relationship(remote_side="Unit.id", back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.code")
    responsibles: Mapped[list["UnitResponsible"]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", order_by="UnitResponsible.id"
    )

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def contains(self, other: "Unit") -> bool:
        """True when `other` is this unit or lies below it."""
        return other.path.startswith(self.path)


class UnitResponsible(db.Model):
    """A named person responsible for a unit (包联), notified of its reports."""

    __tablename__ = "unit_responsibles"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(64), default="")

    unit: Mapped[Unit] = relationship(back_populates="responsibles")
