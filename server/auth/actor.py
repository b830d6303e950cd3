"""Who is asking: the one type every operation, query and permission check takes.

A request's actor is read from its bearer token (sessions.viewer()); a command or a test
that holds a `User` row makes one with `Actor.of_user`. The timers act as no one: they
pass None and act in the `system` role.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import directory
from ..directory import UnitInfo
from .models import Role, User, is_wechat_openid


@dataclass(frozen=True, slots=True)
class Post:
    """A staff post: the role, and the unit it covers (with every unit below)."""

    id: int
    unit_id: int
    role: Role
    unit: UnitInfo


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user as operations read them: identity, the phone (encrypted), posts.

    Not an ORM object: reads and permission checks need nothing more, and the operations
    that change the account itself load the `User` row."""

    id: int
    openid: str
    nickname: str
    phone_enc: str | None
    wecom_userid: str | None
    is_dev: bool
    created_at: datetime
    token_id: int | None
    token_expires_at: datetime | None
    posts: tuple[Post, ...]

    @property
    def from_wechat(self) -> bool:
        return is_wechat_openid(self.openid)

    @classmethod
    def of_user(cls, user: User) -> "Actor":
        units = directory.units(post.unit_id for post in user.posts)
        posts = tuple(sorted((Post(p.id, p.unit_id, Role(p.role), units[p.unit_id])
                              for p in user.posts if p.unit_id in units), key=lambda post: post.id))
        return cls(user.id, user.openid, user.nickname or "", user.phone_enc, user.wecom_userid, bool(user.is_dev),
                   user.created_at, None, None, posts)
