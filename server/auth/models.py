"""Users, their opaque API tokens and their staff posts."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from ..units.models import Unit


class Role(str, enum.Enum):
    grid_worker = "grid_worker"
    cadre = "cadre"
    unit_head = "unit_head"
    deputy = "deputy"
    admin = "admin"


ROLE_LABELS = {
    Role.grid_worker: "网格员",
    Role.cadre: "干部",
    Role.unit_head: "单位负责人",
    Role.deputy: "人大代表",
    Role.admin: "管理员",
}


def is_wechat_openid(openid: str) -> bool:
    """WeChat openids never contain ':'; dev and integration accounts (dev:, open311:) do."""
    return ":" not in openid


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    nickname: Mapped[str] = mapped_column(sa.String(64), default="")
    # WeChat session_key, Fernet-encrypted; never leaves the server.
    session_key_enc: Mapped[str | None] = mapped_column(sa.Text)
    phone_enc: Mapped[str | None] = mapped_column(sa.Text)
    is_dev: Mapped[bool] = mapped_column(default=False)
    wecom_userid: Mapped[str | None] = mapped_column(sa.String(64))  # staff reached through WeCom
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def from_wechat(self) -> bool:
        return is_wechat_openid(self.openid)

    posts: Mapped[list["StaffPost"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class AuthToken(db.Model):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class StaffPost(db.Model):
    """A user's role in a governance unit; the role applies to the unit and every unit below."""

    __tablename__ = "staff_posts"
    __table_args__ = (sa.UniqueConstraint("user_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, name="staff_role", native_enum=False, create_constraint=True, length=20)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="posts")
    unit: Mapped["Unit"] = relationship(lazy="joined")



class ConsoleAccount(db.Model):
    """A staff member's sign-in to the office console: a username, an Argon2id password hash
    and a TOTP second factor (its secret Fernet-encrypted, like the phone)."""

    __tablename__ = "console_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    totp_secret_enc: Mapped[str] = mapped_column(sa.Text)
    # The last TOTP time step accepted: a code is good once (no replay within its window).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class ConsoleSession(db.Model):
    """A signed-in console browser: only the SHA-256 of its cookie is stored. Revocable;
    it lapses after CONSOLE_IDLE_MINUTES without a request."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")
