"""Every change to the roll and to a vote: guard -> change -> event -> notices -> flush.

Secret ballot: a cast writes who voted (`Voter`, unique per vote and roll entry, across
every channel) and what (`Ballot`, keyed by HMAC(vote secret, entry): the same entry finds
and replaces its own ballot until the close). Closing tallies the ballots, freezes the
result, destroys the secret and gives every ballot a random key: after that no stored data
joins a ballot to a person.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..auth.actor import Actor
from ..cache import ProcessCache
from ..db_setup import insert_or_replace, insert_skipping_duplicates
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..notifications.outbox import notify_many
from ..timeutil import as_utc, utcnow
from ..units.models import Unit
from ..units.scope import staff_roles_in
from ..workflow import SYSTEM, append_event, flush
from . import rules
from .models import Ballot, RollEntry, RollStatus, Vote, VoteEvent, VoteOption, Voter, VoteRoll, VoteStatus

MACHINE = rules.MACHINE
operation = MACHINE.operation
MACHINE.guard_columns(Vote)

MAX_WINDOW = timedelta(days=90)
MIN_WINDOW = timedelta(hours=1)


class random_ref(FunctionElement):
    """32 random bytes in hex, made by the database for each row."""

    type = sa.String()
    inherit_cache = True


@compiles(random_ref, "mysql")
def _random_ref_mysql(element, compiler, **kw):
    return "LOWER(HEX(RANDOM_BYTES(32)))"


@compiles(random_ref, "sqlite")
def _random_ref_sqlite(element, compiler, **kw):
    return "lower(hex(randomblob(32)))"


@compiles(random_ref)
def _random_ref_default(element, compiler, **kw):
    return "encode(gen_random_bytes(32), 'hex')"


def _unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("单位不存在", key="unit_not_found")
    return unit


def _roles(actor: Actor | None, vote: Vote) -> set[str]:
    return staff_roles_in(actor, _unit(vote.unit_id)) if actor is not None else {SYSTEM}


def _event(vote: Vote, action: str, old: VoteStatus | None, actor: Actor | None, role: str, note: str = "",
           data: dict | None = None) -> None:
    append_event(VoteEvent, "vote_id", vote, action, old.value if old else None, actor, role,
                 to_state=VoteStatus(vote.status).value, note=note, data=data)


def _step(vote: Vote, action: str, actor: Actor | None, version: int | None):
    rule, role = MACHINE.step(vote, action, _roles(actor, vote), version=version)
    old = VoteStatus(vote.status)
    vote.status = rule.to
    return old, role


# --- the roll ------------------------------------------------------------------------------


def claim_home(actor: Actor, unit_id: int, household: str, name: str = "") -> RollEntry:
    """A resident says they live in a building or grid (and which household): waits for a
    grid worker or cadre to confirm it. Claiming again updates a claim not yet confirmed."""
    unit = _unit(unit_id)
    if unit.kind not in ("building", "grid", "compound", "group", "village", "community"):
        raise Invalid("请选择所住的楼栋或网格", key="invalid_home")
    entry = db.session.execute(sa.select(RollEntry).where(
        RollEntry.unit_id == unit.id, RollEntry.user_id == actor.id)).scalar_one_or_none()
    if entry is not None and entry.status == RollStatus.confirmed:
        raise Conflict("该住址已确认", key="already_confirmed")
    if entry is None:
        entry = RollEntry(unit_id=unit.id, user_id=actor.id)
        db.session.add(entry)
    entry.household, entry.name, entry.status = household.strip(), name.strip(), RollStatus.claimed
    flush()
    return entry


def _household_entry(unit_id: int, household: str) -> RollEntry:
    """The household's own roll entry (one vote when a vote is by household), made once."""
    db.session.connection().execute(insert_skipping_duplicates(RollEntry.__table__, "unit_id", "household_key"), {
        "unit_id": unit_id, "user_id": None, "household": household, "household_key": household, "name": household,
        "status": RollStatus.confirmed.value, "version": 1, "created_at": utcnow()})
    return db.session.execute(sa.select(RollEntry).where(
        RollEntry.unit_id == unit_id, RollEntry.household_key == household)).scalar_one()


def review_home(entry: RollEntry, actor: Actor, confirm: bool, version: int | None = None) -> RollEntry:
    """A grid worker or cadre of the unit confirms (or rejects) a claimed home."""
    if not staff_roles_in(actor, _unit(entry.unit_id)) & rules.CLERKS:
        raise Forbidden("只有本网格的网格员或干部可以确认住址", key="forbidden")
    if version is not None and version != entry.version:
        raise Conflict("内容已被他人修改，请刷新后重试", key="conflict")
    if entry.status != RollStatus.claimed:
        raise Conflict("该住址不在待确认状态", key="invalid_transition")
    entry.status = RollStatus.confirmed if confirm else RollStatus.rejected
    entry.confirmed_by = actor.id
    if confirm and entry.household:
        _household_entry(entry.unit_id, entry.household)
    flush()
    return entry


def import_households(actor: Actor, unit_id: int, rows: list[dict]) -> int:
    """An admin's roll of households ({"household", "name"}), all or nothing: confirmed
    household entries (户代表 votes). Rows already on the roll are left as they are."""
    unit = _unit(unit_id)
    if "admin" not in staff_roles_in(actor, unit):
        raise Forbidden("只有管理员可以导入名册", key="forbidden")
    problems, seen = [], set()
    for number, row in enumerate(rows, start=1):
        household = str(row.get("household") or "").strip()
        if not household or len(household) > 64:
            problems.append(f"第 {number} 行：户号应为 1 到 64 个字符")
        elif household in seen:
            problems.append(f"第 {number} 行：户号 {household} 重复")
        seen.add(household)
    if problems or not rows:
        raise Invalid("名册有误，未导入", key="invalid_roll", errors={"problems": problems or ["名册是空的"]})
    added = db.session.connection().execute(insert_skipping_duplicates(RollEntry.__table__, "unit_id", "household_key"), [
        {"unit_id": unit.id, "user_id": None, "household": str(r["household"]).strip(),
         "household_key": str(r["household"]).strip(),
         "name": str(r.get("name") or "").strip()[:64], "status": RollStatus.confirmed.value, "version": 1,
         "created_at": utcnow()} for r in rows]).rowcount
    flush()
    return added


# --- a vote --------------------------------------------------------------------------------


@operation
def create_vote(actor: Actor, unit_id: int, title: str, options: list[str], yes_option: int, opens_at: datetime,
                closes_at: datetime, by_household: bool = False, quorum_pct: int = 50, threshold_pct: int = 50,
                topic_id: int | None = None) -> Vote:
    """A draft vote of a unit's residents; its rules are shown before anyone votes and
    frozen when it opens."""
    unit = _unit(unit_id)
    held = staff_roles_in(actor, unit) & rules.ORGANISERS
    if not held:
        raise Forbidden("只有本单位的干部可以发起投票", key="forbidden")
    labels = [o.strip() for o in options]
    if not rules.MIN_OPTIONS <= len(labels) <= rules.MAX_OPTIONS or not all(labels) or len(set(labels)) != len(labels):
        raise Invalid("选项应为 2 到 10 个互不相同的说法", key="invalid_options")
    if not 0 <= yes_option < len(labels):
        raise Invalid("请指明哪个选项是“同意”", key="invalid_options")
    opens_at, closes_at = as_utc(opens_at), as_utc(closes_at)
    now = utcnow()
    if closes_at - opens_at < MIN_WINDOW or closes_at - opens_at > MAX_WINDOW or closes_at <= now \
            or opens_at > now + MAX_WINDOW:
        raise Invalid("投票时间应在一小时到九十天之间，且尚未结束", key="invalid_window")
    vote = Vote(unit_id=unit.id, topic_id=topic_id, title=title.strip(), by_household=by_household, opens_at=opens_at,
                closes_at=closes_at, quorum_pct=quorum_pct, threshold_pct=threshold_pct, status=VoteStatus.draft,
                created_by=actor.id)
    db.session.add(vote)
    flush()
    for position, label in enumerate(labels):
        db.session.add(VoteOption(vote_id=vote.id, position=position, label=label, is_yes=position == yes_option))
    _event(vote, "create", None, actor, next(iter(sorted(held))))
    flush()
    return vote


def options_of(vote: Vote) -> list[VoteOption]:
    return list(db.session.execute(sa.select(VoteOption).where(VoteOption.vote_id == vote.id)
                                   .order_by(VoteOption.position)).scalars())


def _roll_query(vote: Vote):
    unit = _unit(vote.unit_id)
    in_unit = RollEntry.unit_id.in_(sa.select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True)))
    kind = RollEntry.household_key.is_not(None) if vote.by_household else RollEntry.user_id.is_not(None)
    return sa.select(sa.literal(vote.id), RollEntry.id).where(in_unit, kind, RollEntry.status == RollStatus.confirmed)


@operation
def open_vote(vote: Vote, actor: Actor | None, version: int | None = None) -> Vote:
    """Voting opens: the roll is frozen (the confirmed entries of the unit and below, of
    persons or of households), the secret made, and the roll told."""
    old, role = _step(vote, "open", actor, version)
    db.session.execute(sa.insert(VoteRoll).from_select(["vote_id", "entry_id"], _roll_query(vote)))
    vote.roll_size = db.session.execute(sa.select(sa.func.count()).select_from(VoteRoll)
                                        .where(VoteRoll.vote_id == vote.id)).scalar_one()
    vote.secret = secrets.token_hex(32)
    _event(vote, "open", old, actor, role, data={"roll_size": vote.roll_size})
    notify_many(_roll_users(vote), "vote_opened", title="投票开始", body=f"“{vote.title}”开始投票，请参与",
                data={"id": vote.id, "title": vote.title, "due": vote.closes_at.isoformat()},
                dedupe_prefix=f"vote-open:{vote.id}")
    flush()
    return vote


def _roll_users(vote: Vote) -> list[int]:
    """The accounts the roll reaches: the entries' own users, and a household's confirmed members."""
    entries = sa.select(VoteRoll.entry_id).where(VoteRoll.vote_id == vote.id)
    direct = sa.select(RollEntry.user_id).where(RollEntry.id.in_(entries), RollEntry.user_id.is_not(None))
    households = sa.select(RollEntry.unit_id, RollEntry.household_key).where(
        RollEntry.id.in_(entries), RollEntry.household_key.is_not(None)).subquery()
    members = sa.select(RollEntry.user_id).join(households, sa.and_(
        households.c.unit_id == RollEntry.unit_id, households.c.household_key == RollEntry.household)).where(
        RollEntry.user_id.is_not(None), RollEntry.status == RollStatus.confirmed)
    return sorted(set(db.session.execute(direct.union(members)).scalars()))


def _entry_query(vote, actor: Actor) -> sa.Select:
    frozen = sa.select(VoteRoll.entry_id).where(VoteRoll.vote_id == vote.id)
    if vote.by_household:
        mine = sa.select(RollEntry.unit_id, RollEntry.household).where(
            RollEntry.user_id == actor.id, RollEntry.status == RollStatus.confirmed).subquery()
        query = sa.select(RollEntry.id).join(mine, sa.and_(mine.c.unit_id == RollEntry.unit_id,
                                                           mine.c.household == RollEntry.household_key))
        query = query.where(RollEntry.id.in_(frozen))
    else:
        query = sa.select(RollEntry.id).where(RollEntry.user_id == actor.id, RollEntry.id.in_(frozen))
    return query.order_by(RollEntry.id).limit(1)


def entry_of(vote, actor: Actor) -> int | None:
    """The roll entry the actor votes as: their own (by person) or their household's; None
    when they are not on the vote's roll."""
    return db.session.execute(_entry_query(vote, actor)).scalar()


def _entry_for(vote: Vote, actor: Actor) -> int:
    entry_id = entry_of(vote, actor)
    if entry_id is None:
        raise Forbidden("您不在本次投票的名册上", key="not_on_roll")
    return entry_id


def _ref(vote, entry_id: int) -> str:
    return hmac.new(bytes.fromhex(vote.secret), f"{vote.id}:{entry_id}".encode(), hashlib.sha256).hexdigest()


_votes = Vote.__table__
# What a cast reads of its vote, as one Core row (no ORM object, no options loaded with it):
# what it checks and what its answer shows (votes.queries.shown takes the row).
_FOR_CAST = sa.select(*(_votes.c[name] for name in (
    "id", "unit_id", "topic_id", "title", "status", "by_household", "opens_at", "closes_at", "quorum_pct",
    "threshold_pct", "roll_size", "result", "secret"))).where(_votes.c.id == sa.bindparam("vote_id"))
# A vote's options (id, label, is_yes) in order: written with the vote and never changed, so
# each process keeps them (dropped when it writes options itself).
_options = ProcessCache("vote_options", watch=(VoteOption,), ttl_setting=None, max_entries=10_000)


def _locked_open(vote_id: int):
    """The vote, read under a shared lock: a cast waits for a close in progress and then
    finds it closed (MySQL; SQLite writers are one at a time anyway)."""
    vote = db.session.execute(_FOR_CAST.with_for_update(read=True), {"vote_id": vote_id}).first()
    if vote is None:
        raise NotFound("投票不存在", key="vote_not_found")
    now = utcnow()
    if vote.status != VoteStatus.open or not vote.opens_at <= now < vote.closes_at:
        raise Conflict("现在不在投票时间内", key="vote_not_open")
    return vote


def frozen_options(vote_id: int) -> tuple[tuple[int, str, bool], ...]:
    """The vote's options as (id, label, is_yes), in order, from this process's copy."""
    return _options.get(vote_id, lambda: tuple(db.session.execute(
        sa.select(VoteOption.id, VoteOption.label, VoteOption.is_yes).where(VoteOption.vote_id == vote_id)
        .order_by(VoteOption.position)).tuples()))


def _check_option(vote_id: int, option_id: int) -> None:
    if option_id not in {o[0] for o in frozen_options(vote_id)}:
        raise Invalid("选项不存在", key="invalid_option")


def cast(vote_id: int, actor: Actor, option_id: int):
    """An online ballot by the actor's roll entry; casting again replaces it (the last one
    counts). Refused off the roll, outside the window, and for an entry that voted on paper.
    Four statements the first time, three for a change: the vote (shared lock), the actor's
    entry with its voter row if any (locked), who voted (the first time), what (an upsert).
    Returns the vote's row as read (for the answer)."""
    vote = _locked_open(vote_id)
    _check_option(vote.id, option_id)
    found = _entry_and_channel(vote, actor)
    if found is None:
        raise Forbidden("您不在本次投票的名册上", key="not_on_roll")
    entry_id, channel = found
    _record(vote, entry_id, option_id, "online", user_id=actor.id, first=channel, locked=True)
    return vote


def _entry_and_channel(vote, actor: Actor) -> tuple[int, str | None] | None:
    """entry_of, locked, with the channel its entry already voted by (None: not yet)."""
    entry = _entry_query(vote, actor).subquery()
    voted = sa.select(entry.c.id, Voter.channel).outerjoin(
        Voter, sa.and_(Voter.vote_id == vote.id, Voter.entry_id == entry.c.id))
    row = db.session.execute(voted.with_for_update()).first()
    return None if row is None else (row[0], row[1])


def _record(vote, entry_id: int, option_id: int, channel: str, user_id: int | None = None,
            clerk_id: int | None = None, first: str | None = None, locked: bool = False) -> None:
    """Who voted (once per entry, by one channel) and what (the entry's ballot, replaced by
    a later online one). `first`: the channel the entry voted by, read under its lock."""
    conn = db.session.connection()
    if not locked:
        # One cast of an entry at a time (its row locked; MySQL): concurrent duplicate-skipping
        # INSERTs of one key otherwise deadlock each other when the first commits.
        conn.execute(sa.select(RollEntry.id).where(RollEntry.id == entry_id).with_for_update())
    if first is None:
        new_voter = conn.execute(insert_skipping_duplicates(Voter.__table__, "vote_id", "entry_id"), {
            "vote_id": vote.id, "entry_id": entry_id, "channel": channel, "user_id": user_id,
            "recorded_by": clerk_id}).rowcount == 1
        if not new_voter:  # recorded meanwhile (SQLite, where nothing was locked)
            first = conn.execute(sa.select(Voter.channel).where(Voter.vote_id == vote.id,
                                                                Voter.entry_id == entry_id)).scalar()
    if first is not None and (first != channel or channel == "paper"):
        raise Conflict("该户（人）已经投过票" + ("（纸质）" if first == "paper" else ""), key="already_voted")
    conn.execute(insert_or_replace(Ballot.__table__, ("vote_id", "ref"), ("option_id",)),
                 {"vote_id": vote.id, "ref": _ref(vote, entry_id), "option_id": option_id})


def my_ballot(vote: Vote, actor: Actor) -> int | None:
    """The option the actor's entry chose, while the vote is open (to the voter alone)."""
    entry_id = entry_of(vote, actor) if vote.status == VoteStatus.open and vote.secret else None
    if entry_id is None:
        return None
    return db.session.execute(sa.select(Ballot.option_id).where(Ballot.vote_id == vote.id,
                                                                Ballot.ref == _ref(vote, entry_id))).scalar()


def enter_paper(vote_id: int, actor: Actor, entry_id: int, option_id: int) -> None:
    """A paper ballot from the residents' assembly, entered by a clerk against the same roll;
    an entry that voted online cannot vote on paper, and the other way round."""
    vote = _locked_open(vote_id)
    if not staff_roles_in(actor, _unit(vote.unit_id)) & rules.CLERKS:
        raise Forbidden("只有本单位的工作人员可以录入纸质选票", key="forbidden")
    _check_option(vote.id, option_id)
    on_roll = db.session.execute(sa.select(VoteRoll.entry_id).where(
        VoteRoll.vote_id == vote.id, VoteRoll.entry_id == entry_id)).scalar()
    if on_roll is None:
        raise Forbidden("该户（人）不在本次投票的名册上", key="not_on_roll")
    _record(vote, entry_id, option_id, "paper", clerk_id=actor.id)


def counts(vote_id: int) -> dict[int, int]:
    """Ballots per option: one grouped count on the (vote_id, ref) key."""
    return dict(db.session.execute(sa.select(Ballot.option_id, sa.func.count()).where(Ballot.vote_id == vote_id)
                                   .group_by(Ballot.option_id)).all())


@operation
def close_vote(vote: Vote, actor: Actor | None, version: int | None = None) -> Vote:
    """Tally, freeze and publish the result; destroy the secret; give every ballot a random key."""
    old, role = _step(vote, "close", actor, version)
    flush()  # the status first: a cast waiting on the vote row then finds it closed
    yes = next(o.id for o in options_of(vote) if o.is_yes)
    vote.result = rules.tally(counts(vote.id), yes, vote.roll_size, vote.quorum_pct, vote.threshold_pct)
    vote.secret, vote.closed_at = None, utcnow()
    db.session.execute(sa.update(Ballot.__table__).where(Ballot.vote_id == vote.id).values(ref=random_ref()))
    _event(vote, "close", old, actor, role, data={"passed": vote.result["passed"],
                                                   "turnout_pct": vote.result["turnout_pct"]})
    MACHINE.publish("close", vote, actor)  # a topic put to this vote is decided by it
    flush()
    return vote


@operation
def cancel_vote(vote: Vote, actor: Actor, reason: str, version: int | None = None) -> Vote:
    if not reason.strip():
        raise Invalid("取消投票须说明理由", key="reason_required")
    old, role = _step(vote, "cancel", actor, version)
    vote.secret = None
    db.session.execute(sa.delete(Ballot.__table__).where(Ballot.vote_id == vote.id))
    _event(vote, "cancel", old, actor, role, note=reason)
    flush()
    return vote


@operation
def remind(vote: Vote) -> None:
    """A day before the close, the roll members who have not voted are reminded once."""
    voted = sa.select(Voter.user_id).where(Voter.vote_id == vote.id, Voter.user_id.is_not(None))
    already = set(db.session.execute(voted).scalars())
    notify_many([u for u in _roll_users(vote) if u not in already], "vote_closing", title="投票即将截止",
                body=f"“{vote.title}”明天截止", data={"id": vote.id, "title": vote.title,
                                                      "due": vote.closes_at.isoformat()},
                dedupe_prefix=f"vote-closing:{vote.id}")
    vote.reminded = True


def sweep(now: datetime | None = None) -> dict:
    """The vote timers: open drafts whose time has come, remind a day ahead, close at the end."""
    now = now or utcnow()
    due = db.session.execute(sa.select(Vote).where(Vote.status == VoteStatus.draft, Vote.opens_at <= now)).scalars().all()
    opened = 0
    for vote in due:
        try:
            with db.session.begin_nested():
                open_vote(vote, None)
                opened += 1
        except Conflict:
            pass  # no valid options: stays a draft for its organiser
    soon = db.session.execute(sa.select(Vote).where(Vote.status == VoteStatus.open, Vote.reminded.is_(False),
                                                    Vote.closes_at <= now + timedelta(days=1))).scalars().all()
    for vote in soon:
        remind(vote)
    ended = db.session.execute(sa.select(Vote).where(Vote.status == VoteStatus.open,
                                                     Vote.closes_at <= now)).scalars().all()
    for vote in ended:
        close_vote(vote, None)
    flush()
    return {"votes_opened": opened, "votes_reminded": len(soon), "votes_closed": len(ended)}
