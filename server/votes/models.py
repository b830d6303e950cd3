"""Residents' votes: the roll (who may vote in a unit), a vote with its frozen rules, who
voted, and the ballots, kept apart so that after the close no stored data joins a ballot to
a person.

- `RollEntry`: a confirmed home in a unit: a person, or a household (户) whose members share
  one vote. Residents claim a home, a grid worker or cadre confirms it; an admin may import
  a roll of households.
- `Vote`: options, window, quorum and threshold, and by person or household; all frozen when
  it opens (version-checked, changed only through its operations).
- `VoteRoll`: the roll as it stood when the vote opened: one row per entry that may vote.
- `Voter`: who voted (an entry, by which channel); unique per vote and entry, across every
  channel: a second WeChat account of the same entry, or a paper ballot after an online
  one, gets nothing more.
- `Ballot`: what was voted, under a reference only the vote's secret can derive from the
  entry. No time, no entry, no autoincrement id: its key is the reference itself. At the
  close the secret is destroyed and every reference replaced by a random one.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow
from ..workflow import EventColumns, append_only


class VoteStatus(str, enum.Enum):
    draft = "draft"          # 草稿: options and rules may still change
    open = "open"            # 投票中: rules and roll frozen
    closed = "closed"        # 已结束: tallied, published
    cancelled = "cancelled"  # 已取消: before or during voting, with a reason


class RollStatus(str, enum.Enum):
    claimed = "claimed"      # 待确认: a resident said they live here
    confirmed = "confirmed"  # 已确认: a grid worker or cadre confirmed it (or an import)
    rejected = "rejected"    # 未通过
    removed = "removed"      # 已迁出


class RollEntry(db.Model):
    __tablename__ = "roll_entries"
    __table_args__ = (
        # One claim per person and unit; one household row per household and unit (persons
        # leave household_key empty: NULLs never collide).
        sa.UniqueConstraint("unit_id", "user_id"),
        sa.UniqueConstraint("unit_id", "household_key"),
        sa.Index("ix_roll_entries_unit_id_status", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))  # building or grid
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The household (户) the person belongs to: a door plate such as "3栋2单元501"; a
    # household entry (imported) carries it with no user.
    household: Mapped[str | None] = mapped_column(sa.String(64))
    household_key: Mapped[str | None] = mapped_column(sa.String(64))  # set on the household's own entry only
    name: Mapped[str] = mapped_column(sa.String(64), default="")  # 户主 or the resident, as shown to staff
    status: Mapped[RollStatus] = mapped_column(
        sa.Enum(RollStatus, name="roll_status", native_enum=False, create_constraint=True, length=12),
        default=RollStatus.claimed)
    confirmed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Vote(db.Model):
    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    by_household: Mapped[bool] = mapped_column(default=False)  # 户代表: one vote per household
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    quorum_pct: Mapped[int] = mapped_column(default=50)     # turnout needed, % of the roll
    threshold_pct: Mapped[int] = mapped_column(default=50)  # a yes needs more than this % of valid ballots
    status: Mapped[VoteStatus] = mapped_column(
        sa.Enum(VoteStatus, name="vote_status", native_enum=False, create_constraint=True, length=12),
        default=VoteStatus.draft)
    roll_size: Mapped[int] = mapped_column(default=0)  # frozen with the roll
    # HMAC key deriving a ballot's reference from its roll entry: set when voting opens,
    # destroyed at the close. Never answered, never logged.
    secret: Mapped[str | None] = mapped_column(sa.String(64))  # 32 random bytes, hex
    reminded: Mapped[bool] = mapped_column(default=False)  # the day-before notice went out
    # Frozen at the close: {"ballots", "turnout_pct", "quorum_met", "passed", "counts": {option_id: n}}
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}

    # Loaded when asked (the guard of "open"); readers call operations.options_of.
    options: Mapped[list["VoteOption"]] = relationship(order_by="VoteOption.position", lazy="select",
                                                       viewonly=True)


class VoteOption(db.Model):
    __tablename__ = "vote_options"
    __table_args__ = (sa.UniqueConstraint("vote_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(sa.String(100))
    # The option a "passed" decision counts (同意); a vote has exactly one.
    is_yes: Mapped[bool] = mapped_column(default=False)


@append_only
class VoteRoll(db.Model):
    """The roll frozen when voting opened: the entries that may vote."""

    __tablename__ = "vote_rolls"
    __table_args__ = (sa.PrimaryKeyConstraint("vote_id", "entry_id"),)

    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("roll_entries.id", ondelete="CASCADE"))


class Voter(db.Model):
    """Who voted, by which channel: never what."""

    __tablename__ = "voters"
    # No rowid on SQLite: its insertion order would match the ballots' (InnoDB keeps rows by key).
    __table_args__ = (sa.PrimaryKeyConstraint("vote_id", "entry_id"), {"sqlite_with_rowid": False})

    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("roll_entries.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(8))  # online | paper
    # The account that cast an online ballot (a household's members share the entry).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recorded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))  # paper: the clerk


class Ballot(db.Model):
    """What was voted. Its key is its reference: HMAC(vote secret, entry) while the vote is
    open (so the voter can change it), 32 random bytes after the close (hex)."""

    __tablename__ = "ballots"
    __table_args__ = (sa.PrimaryKeyConstraint("vote_id", "ref"), {"sqlite_with_rowid": False})

    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(sa.String(64))  # hex
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("vote_options.id", ondelete="CASCADE"))


@append_only
class VoteEvent(EventColumns, db.Model):
    """A vote's history: opened, closed, cancelled, paper ballots entered (never whose)."""

    __tablename__ = "vote_events"
    __table_args__ = (sa.Index("ix_vote_events_vote_id_id", "vote_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str] = mapped_column(sa.String(12))
