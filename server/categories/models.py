"""Report categories and their time limits (12345 practice)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    icon: Mapped[str] = mapped_column(sa.String(64), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    # The unit kind that handles it (e.g. "community"); None: the deepest unit at the place.
    handler_kind: Mapped[str | None] = mapped_column(sa.String(20))
    respond_hours: Mapped[int] = mapped_column(default=24)
    resolve_days: Mapped[int] = mapped_column(default=7)
    resolve_hours: Mapped[int | None] = mapped_column()  # overrides resolve_days for emergencies
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
