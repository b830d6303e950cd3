"""Every change to a topic: guard -> change -> event -> notices -> flush (never commit).

A topic moves through the stages of rules.TRANSITIONS. A ticket proposed for deliberation
opens a topic (a subscriber of the ticket machine's "propose"); when the topic is decided
against, the ticket is returned with the decision; when a topic's vote closes, the topic is
decided by its result (a subscriber of the vote machine's "close").
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction

import sqlalchemy as sa

from ..auth.actor import Actor
from ..db_setup import insert_skipping_duplicates
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..media import operations as media_ops
from ..media.models import Media
from ..notifications.outbox import notify_many
from ..tickets import lifecycle as ticket_lc
from ..tickets import operations as ticket_ops
from ..tickets.models import Ticket
from ..tickets.reporting import check_text
from ..timeutil import as_utc, utcnow
from ..units.models import Unit
from ..units.scope import staff_roles_in
from ..votes import operations as vote_ops
from ..votes import rules as vote_rules
from ..votes.models import RollEntry, RollStatus, Vote, Voter
from ..workflow import append_event, flush
from . import rules
from .models import CouncilMember, CouncilRule, CouncilSession, Follow, Opinion, Topic, TopicEvent, TopicStatus
from .rules import MACHINE

operation = MACHINE.operation
MACHINE.guard_columns(Topic)


def _unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("单位不存在", key="unit_not_found")
    return unit


def roles_for(actor: Actor | None, topic: Topic) -> set[str]:
    if actor is None:
        return set()
    roles = staff_roles_in(actor, _unit(topic.unit_id))
    seat = db.session.execute(sa.select(CouncilMember.id).where(
        CouncilMember.unit_id == topic.unit_id, CouncilMember.user_id == actor.id)).first()
    if seat is not None:
        roles.add(rules.MEMBER)
    return roles


def _event(topic: Topic, action: str, old: TopicStatus | None, actor: Actor | None, role: str, note: str = "",
           data: dict | None = None, public: bool = True, media: Sequence[Media] = ()) -> None:
    """The stage's history row: its minutes in the note, its attachments (photos) in data."""
    if media:
        data = {**(data or {}), "media": media_ops.listed(media)}
    event_id = append_event(TopicEvent, "topic_id", topic, action, old.value if old else None, actor, role,
                            to_state=TopicStatus(topic.status).value, note=note, data=data, public=public)
    media_ops.attach(media, f"topic_event:{event_id}")


def _move(topic: Topic, action: str, actor: Actor | None, version: int | None, roles: set[str] | None = None):
    rule, role = MACHINE.step(topic, action, roles if roles is not None else roles_for(actor, topic), version=version)
    old = TopicStatus(topic.status)
    topic.status = rule.to
    return old, role


def _text(value: str, name: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(f"请填写{name}", key="text_required", errors={"field": name})
    if len(value) > limit:
        raise Invalid(f"{name}太长（最多 {limit} 字）", key="text_too_long", errors={"field": name})
    return value


# --- a topic's stages ----------------------------------------------------------------------


@operation
def create(actor: Actor, unit_id: int, title: str, body: str = "", source: str = "staff",
           ticket_id: int | None = None) -> Topic:
    """A draft topic of a unit, by its staff (a deputy, a cadre, the unit's head)."""
    unit = _unit(unit_id)
    held = staff_roles_in(actor, unit) & rules.STAFF
    if not held:
        raise Forbidden("只有本单位的干部或人大代表可以提出议题", key="forbidden")
    topic = Topic(unit_id=unit.id, title=_text(title, "议题", 200), body=_text(body, "说明", 5000, required=False),
                  source=source, ticket_id=ticket_id, status=TopicStatus.draft, created_by=actor.id)
    db.session.add(topic)
    _event(topic, "create", None, actor, sorted(held)[0], data={"source": source, "ticket": ticket_id})
    flush()
    return topic


def _from_ticket(ticket: Ticket, actor: Actor, note: str = "") -> None:
    """A ticket proposed for deliberation (代表议题) opens a topic in its unit."""
    unit = _unit(ticket.unit_id)
    held = staff_roles_in(actor, unit) & rules.STAFF or {"deputy"}
    topic = Topic(unit_id=unit.id, title=f"群众反映：{ticket.description[:60] or '见照片'}",
                  body=note or ticket.description, source="ticket", ticket_id=ticket.id, status=TopicStatus.draft,
                  created_by=actor.id)
    db.session.add(topic)
    _event(topic, "create", None, actor, sorted(held)[0], data={"source": "ticket", "ticket": ticket.id})


ticket_lc.MACHINE.subscribe("propose", operation(_from_ticket))


@operation
def solicit(topic: Topic, actor: Actor, until: datetime, note: str = "", version: int | None = None,
            media: Sequence[Media] = ()) -> Topic:
    """征: opinions solicited from the unit's residents until `until` (at least three days)."""
    until = as_utc(until)
    window = until - utcnow()
    if window < rules.MIN_SOLICIT or window > rules.MAX_SOLICIT:
        raise Invalid("征求意见至少三天、至多六十天", key="invalid_window")
    old, role = _move(topic, "solicit", actor, version)
    topic.solicit_until = until
    _event(topic, "solicit", old, actor, role, note=note, data={"until": until.isoformat()}, media=media)
    flush()
    return topic


def _simple(action: str, doc: str):
    @operation
    def step(topic: Topic, actor: Actor, note: str = "", version: int | None = None,
             media: Sequence[Media] = ()) -> Topic:
        old, role = _move(topic, action, actor, version)
        data = {"opinions": topic.opinions} if action == "propose" else None
        _event(topic, action, old, actor, role, note=note, data=data, media=media)
        flush()
        return topic

    step.__name__, step.__doc__ = action, doc
    return step


propose = _simple("propose", "议 (支部提议): the branch's proposal, with the opinions' count and summary in its note.")
deliberate = _simple("deliberate", "议 (议事会商议): the council takes it up.")
close = _simple("close", "办结: the result is out; nothing more to do.")


@operation
def put_to_residents(topic: Topic, actor: Actor, method: str, note: str = "", vote: dict | None = None,
                     version: int | None = None, media: Sequence[Media] = ()) -> Topic:
    """决: the residents decide, at an assembly (its record is entered with `decide`) or by an
    online vote (made here from `vote`: options, window, quorum, threshold, by household)."""
    if method not in ("assembly", "vote"):
        raise Invalid("决策方式应为居民会议或网上投票", key="invalid_method")
    old, role = _move(topic, "put_to_residents", actor, version)
    topic.decision_method = method
    data: dict = {"method": method}
    if method == "vote":
        if not vote:
            raise Invalid("请设置投票的选项和时间", key="vote_required")
        made = vote_ops.create_vote(actor, topic.unit_id, vote.get("title") or topic.title, vote["options"],
                                    vote.get("yes_option", 0), vote["opens_at"], vote["closes_at"],
                                    by_household=vote.get("by_household", False),
                                    quorum_pct=vote.get("quorum_pct", 50), threshold_pct=vote.get("threshold_pct", 50),
                                    topic_id=topic.id)
        data["vote"] = made.id
    _event(topic, "put_to_residents", old, actor, role, note=note, data=data, media=media)
    flush()
    return topic


@operation
def decide(topic: Topic, actor: Actor | None, passed: bool, note: str = "", version: int | None = None,
           roles: set[str] | None = None, media: Sequence[Media] = ()) -> Topic:
    """The decision: passed or not, by the council alone, an assembly's record, or a vote."""
    topic.passed = passed
    old, role = _move(topic, "decide", actor, version, roles)
    _event(topic, "decide", old, actor, role, note=note, data={"passed": passed}, media=media)
    if not passed and topic.ticket_id:
        _decline_ticket(topic, note or "经议事，不予采纳")
    flush()
    return topic


def _decline_ticket(topic: Topic, decision: str) -> None:
    ticket = db.session.get(Ticket, topic.ticket_id)
    if ticket is not None and ticket.status == ticket_lc.Status.deliberating:
        ticket_ops.decline(ticket, decision)


def _vote_closed(vote: Vote, actor: Actor | None, **_) -> None:
    """A topic put to an online vote is decided by the vote's frozen result."""
    if vote.topic_id is None:
        return
    topic = db.session.get(Topic, vote.topic_id)
    if topic is None or topic.status != TopicStatus.deciding:
        return
    result = vote.result or {}
    note = f"网上投票：投票率 {result.get('turnout_pct')}%，" + ("通过" if result.get("passed") else "未通过")
    decide(topic, actor, bool(result.get("passed")), note, roles={"system"} if actor is None else None)


vote_rules.MACHINE.subscribe("close", operation(_vote_closed))


def _participants(topic: Topic) -> list[int]:
    """Everyone who took part: opinion writers, followers, and the voters of its vote."""
    ids = set(db.session.execute(sa.select(Opinion.user_id).where(Opinion.topic_id == topic.id)).scalars())
    ids |= set(db.session.execute(sa.select(Follow.user_id).where(Follow.topic_id == topic.id)).scalars())
    ids |= set(db.session.execute(sa.select(Voter.user_id).join(Vote, Vote.id == Voter.vote_id)
                                  .where(Vote.topic_id == topic.id)).scalars())
    return sorted(i for i in ids if i)


@operation
def publish_decision(topic: Topic, actor: Actor, decision: str, version: int | None = None,
                     media: Sequence[Media] = ()) -> Topic:
    """公开 (one): the decision, published; everyone who took part is told."""
    topic.decision = _text(decision, "决定", 5000)
    old, role = _move(topic, "publish_decision", actor, version)
    _event(topic, "publish_decision", old, actor, role, note=topic.decision, media=media)
    notify_many(_participants(topic), "topic_published", title="议题决定已公开", body=f"“{topic.title}”的决定已公开",
                data={"id": topic.id, "title": topic.title, "status": "决定已公开", "note": topic.decision},
                dedupe_prefix=f"topic-decision:{topic.id}")
    flush()
    return topic


@operation
def publish_result(topic: Topic, actor: Actor, result: str, version: int | None = None,
                   media: Sequence[Media] = ()) -> Topic:
    """公开 (two): the result of carrying the decision out, published; everyone is told."""
    topic.result = _text(result, "实施结果", 5000)
    old, role = _move(topic, "publish_result", actor, version)
    _event(topic, "publish_result", old, actor, role, note=topic.result, media=media)
    notify_many(_participants(topic), "topic_published", title="议题结果已公开", body=f"“{topic.title}”的实施结果已公开",
                data={"id": topic.id, "title": topic.title, "status": "结果已公开", "note": topic.result},
                dedupe_prefix=f"topic-result:{topic.id}")
    flush()
    return topic


def _exit(action: str, doc: str):
    @operation
    def step(topic: Topic, actor: Actor, reason: str, version: int | None = None,
             media: Sequence[Media] = ()) -> Topic:
        reason = _text(reason, "理由", 1000)
        old, role = _move(topic, action, actor, version)
        _event(topic, action, old, actor, role, note=reason, media=media)
        if topic.ticket_id:
            _decline_ticket(topic, reason)
        flush()
        return topic

    step.__name__, step.__doc__ = action, doc
    return step


withdraw = _exit("withdraw", "撤回, with a reason (a ticket behind it is returned with it).")
reject = _exit("reject", "不予采纳, with a reason (a ticket behind it is returned with it).")

ACTIONS = {"solicit": solicit, "propose": propose, "deliberate": deliberate, "put_to_residents": put_to_residents,
           "decide": decide, "publish_decision": publish_decision, "publish_result": publish_result, "close": close,
           "withdraw": withdraw, "reject": reject}


def get_topic(topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise NotFound("议题不存在", key="topic_not_found")
    return topic


def can_read(actor: Actor | None, topic: Topic) -> bool:
    """A draft is its unit's staff's alone; every other stage is public."""
    return topic.status in rules.PUBLIC or bool(actor is not None and staff_roles_in(actor, _unit(topic.unit_id)))


def act(topic_id: int, action: str, actor: Actor, payload: dict) -> Topic:
    """One stage, by name, with its minutes (the note) and its attachments (the actor's
    uploaded photos, by id)."""
    topic = get_topic(topic_id)
    if not can_read(actor, topic):
        raise NotFound("议题不存在", key="topic_not_found")
    payload = dict(payload)
    media = media_ops.take(actor, payload.pop("media", ()))
    return ACTIONS[action](topic, actor, **payload, media=media)


# --- opinions ------------------------------------------------------------------------------


def lives_in(actor: Actor, unit: Unit) -> bool:
    """A confirmed home in the unit or below, or a report filed there: a resident of the unit."""
    below = sa.select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))
    home = db.session.execute(sa.select(RollEntry.id).where(
        RollEntry.user_id == actor.id, RollEntry.status == RollStatus.confirmed, RollEntry.unit_id.in_(below))
        .limit(1)).first()
    if home is not None:
        return True
    return db.session.execute(sa.select(Ticket.id).where(Ticket.reporter_id == actor.id, Ticket.unit_id.in_(below))
                              .limit(1)).first() is not None


def add_opinion(topic: Topic, actor: Actor, body: str, media: list[int] = ()) -> Opinion:
    """A resident's opinion while opinions are solicited; content-checked like a report (held
    for moderation when WeChat says so)."""
    if topic.status != TopicStatus.soliciting or (topic.solicit_until and topic.solicit_until <= utcnow()):
        raise Conflict("现在不在征求意见期间", key="not_soliciting")
    if not lives_in(actor, _unit(topic.unit_id)):
        raise Forbidden("只有本单位的居民可以发表意见", key="not_a_resident")
    body = _text(body, "意见", 2000)
    held = check_text(actor, body)
    photos = media_ops.take(actor, media)
    opinion = Opinion(topic_id=topic.id, user_id=actor.id, body=body, held=held, media=media_ops.listed(photos))
    db.session.add(opinion)
    flush()
    media_ops.attach(photos, f"opinion:{opinion.id}")
    if not held:
        count_opinion(topic)
    flush()
    return opinion


@operation
def count_opinion(topic: Topic) -> None:
    db.session.execute(sa.update(Topic).where(Topic.id == topic.id).values(opinions=Topic.opinions + 1),
                       execution_options={"synchronize_session": False})
    db.session.refresh(topic, ["opinions", "version"])


def moderate_opinion(opinion: Opinion, actor: Actor, approve: bool, reason: str = "") -> Opinion:
    """A held opinion (the content check said "review"): a moderator of the unit approves it
    (it becomes public and is counted) or refuses it with a reason (its writer alone sees it)."""
    topic = get_topic(opinion.topic_id)
    if not staff_roles_in(actor, _unit(topic.unit_id)) & ticket_lc.MODERATORS:
        raise Forbidden("没有权限审核该意见", key="forbidden")
    if not opinion.held or opinion.hidden:
        raise Conflict("该意见不在审核队列中", key="not_held")
    if approve:
        opinion.held = False
        count_opinion(topic)
    else:
        opinion.hidden, opinion.reply, opinion.replied_by = True, _text(reason, "理由", 500), actor.id
    flush()
    return opinion


def reply_opinion(opinion: Opinion, actor: Actor, reply: str) -> Opinion:
    topic = get_topic(opinion.topic_id)
    if not staff_roles_in(actor, _unit(topic.unit_id)):
        raise Forbidden("只有本单位的工作人员可以回复", key="forbidden")
    opinion.reply, opinion.replied_by = _text(reply, "回复", 2000), actor.id
    flush()
    return opinion


# --- the council ---------------------------------------------------------------------------


def seat(actor: Actor, unit_id: int, user_id: int, name: str) -> CouncilMember:
    """A council seat, granted by the unit's head or an admin."""
    if not staff_roles_in(actor, _unit(unit_id)) & {"unit_head", "admin"}:
        raise Forbidden("只有单位负责人或管理员可以设置议事会成员", key="forbidden")
    db.session.connection().execute(insert_skipping_duplicates(CouncilMember.__table__, "unit_id", "user_id"), {
        "unit_id": unit_id, "user_id": user_id, "name": _text(name, "姓名", 64), "created_at": utcnow()})
    return db.session.execute(sa.select(CouncilMember).where(CouncilMember.unit_id == unit_id,
                                                             CouncilMember.user_id == user_id)).scalar_one()


def council_rule(unit_id: int) -> tuple[Fraction, Fraction]:
    rule = db.session.get(CouncilRule, unit_id)
    if rule is None:
        return Fraction(2, 3), Fraction(1, 2)
    return Fraction(rule.quorum_num, rule.quorum_den), Fraction(rule.majority_num, rule.majority_den)


@operation
def record_session(topic: Topic, actor: Actor, motion: str, present: list[int], votes: dict[int, str],
                   minutes: str = "", version: int | None = None, media: Sequence[int] = ()) -> CouncilSession:
    """A council sitting while the topic is deliberated: who was present and each member's
    named vote on the motion; whether it passed by the unit's rule is worked out here."""
    if topic.status != TopicStatus.deliberating:
        raise Conflict("议题不在议事会商议阶段", key="invalid_transition")
    if not roles_for(actor, topic) & rules.COUNCIL:
        raise Forbidden("只有单位负责人、人大代表或管理员可以记录议事会", key="forbidden")
    if version is not None and version != topic.version:
        raise Conflict("内容已被他人修改，请刷新后重试", key="conflict")
    members = {m.id for m in db.session.execute(sa.select(CouncilMember).where(
        CouncilMember.unit_id == topic.unit_id)).scalars()}
    here = set(present)
    if not members:
        raise Conflict("本单位还没有议事会成员", key="no_council")
    if not here <= members or set(votes) - here or any(v not in ("yes", "no", "abstain") for v in votes.values()):
        raise Invalid("出席和表决的须是本单位议事会成员（同意、反对或弃权）", key="invalid_session")
    photos = media_ops.take(actor, media)
    quorum, majority = council_rule(topic.unit_id)
    yes = sum(1 for v in votes.values() if v == "yes")
    passed = rules.council_passes(len(members), len(here), yes, quorum, majority)
    session = CouncilSession(topic_id=topic.id, members=len(members), present=sorted(here),
                             quorum_num=quorum.numerator, quorum_den=quorum.denominator,
                             majority_num=majority.numerator, majority_den=majority.denominator,
                             motion=_text(motion, "动议", 2000), votes={str(k): v for k, v in votes.items()},
                             passed=passed, minutes=_text(minutes, "会议纪要", 10000, required=False),
                             recorded_by=actor.id)
    db.session.add(session)
    flush()
    role = sorted(roles_for(actor, topic) & rules.COUNCIL)[0]
    _event(topic, "council", TopicStatus(topic.status), actor, role, note=session.minutes,
           data={"session": session.id, "present": len(here), "members": len(members), "yes": yes, "passed": passed},
           media=photos)
    flush()
    return session


# --- following -----------------------------------------------------------------------------


def follow(actor: Actor, topic_id: int | None = None, ticket_id: int | None = None) -> None:
    """Follow a topic or a ticket (deputies follow what they took up); once each."""
    if (topic_id is None) == (ticket_id is None):
        raise Invalid("请指明关注的议题或问题", key="invalid_follow")
    unique = ("user_id", "topic_id") if topic_id else ("user_id", "ticket_id")
    db.session.connection().execute(insert_skipping_duplicates(Follow.__table__, *unique), {
        "user_id": actor.id, "topic_id": topic_id, "ticket_id": ticket_id, "created_at": utcnow()})


def unfollow(actor: Actor, topic_id: int | None = None, ticket_id: int | None = None) -> None:
    query = sa.delete(Follow).where(Follow.user_id == actor.id)
    query = query.where(Follow.topic_id == topic_id) if topic_id else query.where(Follow.ticket_id == ticket_id)
    db.session.execute(query)
