"""Open311 API keys, one integration user each."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from ..auth.models import User


class ApiKey(db.Model):
    """A key for a civic-tech client. Only its SHA-256 is stored; the key itself is shown once.

    Tickets filed with the key are reported by its integration user (openid "open311:<id>"),
    so they go through the same operation, routing and history as the mini-program's.
    """

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped["User"] = relationship()  # noqa: F821  (auth.models)

    @property
    def active(self) -> bool:
        return self.revoked_at is None
