"""Topics (议题) and how a unit decides them (一征三议两公开): opinions solicited, the
branch's proposal, the council's deliberation, the residents' decision (an assembly record
or an online vote), then the decision and the result of carrying it out, both published.

The council (议事会) of a unit: its members, its sessions (who was present) and the
motions voted there, by name and in public.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from ..workflow import EventColumns, append_only


class TopicStatus(str, enum.Enum):
    draft = "draft"                  # 草拟
    soliciting = "soliciting"        # 征求意见
    proposed = "proposed"            # 支部提议
    deliberating = "deliberating"    # 议事会商议
    deciding = "deciding"            # 居民决策（居民会议或网上投票）
    decided = "decided"              # 已决定（通过或未通过）
    decision_published = "decision_published"  # 决定已公开
    result_published = "result_published"      # 结果已公开
    closed = "closed"                # 已办结
    withdrawn = "withdrawn"          # 已撤回
    rejected = "rejected"            # 未采纳


class Topic(db.Model):
    __tablename__ = "topics"
    __table_args__ = (sa.Index("ix_topics_unit_id_id", "unit_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(12), default="staff")  # ticket | need | staff | hotspot
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    status: Mapped[TopicStatus] = mapped_column(
        sa.Enum(TopicStatus, name="topic_status", native_enum=False, create_constraint=True, length=20),
        default=TopicStatus.draft)
    solicit_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_method: Mapped[str | None] = mapped_column(sa.String(12))  # assembly | vote
    passed: Mapped[bool | None] = mapped_column()
    decision: Mapped[str] = mapped_column(sa.Text, default="")   # 决定（公开）
    result: Mapped[str] = mapped_column(sa.Text, default="")     # 实施结果（公开）
    opinions: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


@append_only
class TopicEvent(EventColumns, db.Model):
    """One step of a topic: minutes in the note, attachments (photo ids) in data."""

    __tablename__ = "topic_events"
    __table_args__ = (sa.Index("ix_topic_events_topic_id_id", "topic_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Opinion(db.Model):
    """A resident's opinion while the topic solicits them; held for moderation like reports."""

    __tablename__ = "topic_opinions"
    __table_args__ = (sa.Index("ix_topic_opinions_topic_id_id", "topic_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    media: Mapped[list | None] = mapped_column(sa.JSON)  # [{"id", "key", "thumb_key"}]
    held: Mapped[bool] = mapped_column(default=False)
    hidden: Mapped[bool] = mapped_column(default=False)  # a moderator refused it: its writer alone sees it
    reply: Mapped[str] = mapped_column(sa.Text, default="")  # staff's answer
    replied_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Follow(db.Model):
    """A deputy (or anyone) follows a topic or a ticket."""

    __tablename__ = "follows"
    __table_args__ = (sa.UniqueConstraint("user_id", "topic_id"), sa.UniqueConstraint("user_id", "ticket_id"),
                      sa.CheckConstraint("(topic_id IS NULL) <> (ticket_id IS NULL)", name="one_subject"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouncilMember(db.Model):
    """A seat on a unit's council (议事会), like a staff post."""

    __tablename__ = "council_members"
    __table_args__ = (sa.UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))  # shown in the public minutes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouncilSession(db.Model):
    """A sitting of the council on a topic: who was present, and each motion's named votes.

    `quorum_num/den` and `majority_num/den` are the unit's rule, frozen with the session: a
    motion passes when at least quorum of the members are present and more than majority of
    those present vote yes (two thirds present, more than half of them: the common rule)."""

    __tablename__ = "council_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    members: Mapped[int] = mapped_column()  # seats when it sat
    present: Mapped[list] = mapped_column(sa.JSON)  # member ids
    quorum_num: Mapped[int] = mapped_column(default=2)
    quorum_den: Mapped[int] = mapped_column(default=3)
    majority_num: Mapped[int] = mapped_column(default=1)
    majority_den: Mapped[int] = mapped_column(default=2)
    motion: Mapped[str] = mapped_column(sa.Text)
    votes: Mapped[dict] = mapped_column(sa.JSON)  # {member_id: "yes" | "no" | "abstain"} (named, public)
    passed: Mapped[bool] = mapped_column()
    minutes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouncilRule(db.Model):
    """A unit's own council rule, where it differs from two thirds present and more than half
    of those present."""

    __tablename__ = "council_rules"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    quorum_num: Mapped[int] = mapped_column(default=2)
    quorum_den: Mapped[int] = mapped_column(default=3)
    majority_num: Mapped[int] = mapped_column(default=1)
    majority_den: Mapped[int] = mapped_column(default=2)
