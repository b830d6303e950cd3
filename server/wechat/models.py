"""Values every worker and process must share when there is no Redis (the access token)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime


class SharedValue(db.Model):
    __tablename__ = "shared_values"

    key: Mapped[str] = mapped_column(sa.String(191), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
