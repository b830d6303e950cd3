"""Consent records and the log of staff reads of reporters' personal data. Both append-only."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from ..workflow import append_only


@append_only
class ConsentRecord(db.Model):
    """The user agreed to a version of the privacy policy (小程序用户隐私保护指引)."""

    __tablename__ = "consent_records"
    __table_args__ = (sa.Index("ix_consent_records_user_id_policy_version", "user_id", "policy_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    policy_version: Mapped[str] = mapped_column(sa.String(32))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@append_only
class PersonalDataAccess(db.Model):
    """A staff member saw a reporter's personal data (the masked phone) on a ticket."""

    __tablename__ = "personal_data_access"
    __table_args__ = (sa.Index("ix_personal_data_access_subject_id_id", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"))
    fields: Mapped[str] = mapped_column(sa.String(64))
    accessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

