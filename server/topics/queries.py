"""The read side of topics: a unit's topics by stage, a topic with its timeline, opinions and
council sittings, hot spots for staff, and what a deputy follows. Public reads show
decisions and counts, never a voter."""
from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa

from .. import directory
from ..auth.actor import Actor
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from ..tickets import lifecycle as ticket_lc
from ..tickets.models import Ticket
from ..timeutil import utcnow
from ..units.locator import subtree_ids
from ..units.scope import scope_paths, staff_roles_in
from ..votes.models import Vote
from . import rules
from .models import CouncilMember, CouncilSession, Follow, Opinion, Topic, TopicEvent, TopicStatus
from .operations import can_read, get_topic

GROUPS = {
    "open": [TopicStatus.soliciting, TopicStatus.proposed, TopicStatus.deliberating],
    "voting": [TopicStatus.deciding],
    "decided": [TopicStatus.decided, TopicStatus.decision_published, TopicStatus.result_published, TopicStatus.closed],
    "ended": [TopicStatus.withdrawn, TopicStatus.rejected],
    "draft": [TopicStatus.draft],
}


def list_topics(actor: Actor | None, unit_id: int, group: str | None = None, limit: int = 20,
                cursor: str | None = None) -> dict:
    """A unit's topics (and its units' below), newest first. Drafts only for its staff."""
    unit = directory.unit(unit_id)
    if unit is None:
        raise NotFound("单位不存在", key="unit_not_found")
    staff = actor is not None and bool(staff_roles_in(actor, unit))
    statuses = GROUPS[group] if group else [s for s in TopicStatus if staff or s in rules.PUBLIC]
    if not staff:
        statuses = [s for s in statuses if s in rules.PUBLIC]
    query = sa.select(Topic).where(Topic.unit_id.in_(subtree_ids([unit.path])), Topic.status.in_(statuses))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Topic.id < after[0])
    rows = db.session.execute(query.order_by(Topic.id.desc()).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda t: [t.id])


def readable(topic_id: int, actor: Actor | None) -> Topic:
    topic = get_topic(topic_id)
    if not can_read(actor, topic):
        raise NotFound("议题不存在", key="topic_not_found")
    return topic


def timeline(topic: Topic, actor: Actor | None) -> list[TopicEvent]:
    query = sa.select(TopicEvent).where(TopicEvent.topic_id == topic.id)
    if not (actor is not None and staff_roles_in(actor, directory.unit(topic.unit_id))):
        query = query.where(TopicEvent.public.is_(True))
    return db.session.execute(query.order_by(TopicEvent.id)).scalars().all()


def opinions(topic: Topic, actor: Actor | None, limit: int = 50, cursor: str | None = None) -> dict:
    """Public opinions; a held one only to its writer and the unit's staff."""
    query = sa.select(Opinion).where(Opinion.topic_id == topic.id)
    staff = actor is not None and bool(staff_roles_in(actor, directory.unit(topic.unit_id)))
    visible = sa.and_(Opinion.held.is_(False), Opinion.hidden.is_(False))
    if staff:
        visible = Opinion.hidden.is_(False)
    if actor is not None:
        visible = sa.or_(visible, Opinion.user_id == actor.id)
    query = query.where(visible)
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Opinion.id > after[0])
    rows = db.session.execute(query.order_by(Opinion.id).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda o: [o.id])


def sessions(topic: Topic) -> list[tuple[CouncilSession, dict[int, str]]]:
    """The council's sittings on the topic, each with its members' names (votes are named)."""
    found = db.session.execute(sa.select(CouncilSession).where(CouncilSession.topic_id == topic.id)
                               .order_by(CouncilSession.id)).scalars().all()
    names = dict(db.session.execute(sa.select(CouncilMember.id, CouncilMember.name)
                                    .where(CouncilMember.unit_id == topic.unit_id)).all())
    return [(s, names) for s in found]


def council(unit_id: int) -> list[CouncilMember]:
    return db.session.execute(sa.select(CouncilMember).where(CouncilMember.unit_id == unit_id)
                              .order_by(CouncilMember.id)).scalars().all()


def follows(actor: Actor) -> list[dict]:
    """What the actor follows and where each stands (a deputy's page)."""
    rows = db.session.execute(sa.select(Follow).where(Follow.user_id == actor.id).order_by(Follow.id.desc())).scalars()
    out = []
    for follow in rows:
        if follow.topic_id:
            topic = db.session.get(Topic, follow.topic_id)
            if topic is not None:
                out.append({"kind": "topic", "id": topic.id, "title": topic.title,
                            "status": TopicStatus(topic.status).value,
                            "status_label": rules.LABELS[TopicStatus(topic.status)]})
        else:
            ticket = db.session.get(Ticket, follow.ticket_id)
            if ticket is not None:
                status = ticket_lc.Status(ticket.status)
                out.append({"kind": "ticket", "id": ticket.id, "title": ticket.description[:60] or "（照片）",
                            "status": status.value, "status_label": ticket_lc.STATUS_LABELS[status]})
    return out


HOTSPOT_METRES = 100
HOTSPOT_DAYS = 90
HOTSPOT_MIN = 3


def hotspots(actor: Actor, unit_id: int, thresholds: dict) -> list[dict]:
    """Places where residents keep reporting the same thing: reports of one category within
    about 100 m of each other, three or more in 90 days (per category in HOTSPOT_THRESHOLDS),
    suggested to the unit's deputies and cadres as topics, each with the tickets behind it."""
    unit = directory.unit(unit_id)
    if unit is None or not (staff_roles_in(actor, unit) & rules.STAFF):
        raise Forbidden("只有本单位的干部或人大代表可以查看", key="forbidden")
    since = utcnow() - timedelta(days=HOTSPOT_DAYS)
    rows = db.session.execute(sa.select(Ticket.id, Ticket.category_id, Ticket.lat, Ticket.lng).where(
        Ticket.unit_id.in_(subtree_ids([unit.path])), Ticket.created_at >= since, Ticket.held.is_(False),
        Ticket.hidden.is_(False), Ticket.duplicate_of_id.is_(None)).order_by(Ticket.id)).all()
    categories = directory.categories()
    size = HOTSPOT_METRES / 111_320  # a cell of about 100 m (latitude degrees; longitude scaled)
    cells: dict[tuple, list] = {}
    for row in rows:
        key = (row.category_id, math.floor(row.lat / size), math.floor(row.lng * math.cos(math.radians(row.lat)) / size))
        cells.setdefault(key, []).append(row)

    def block(key):  # the cell and its eight neighbours: reports that close to each other
        category, y, x = key
        return [r for dy in (-1, 0, 1) for dx in (-1, 0, 1) for r in cells.get((category, y + dy, x + dx), ())]

    found, used = [], set()
    for key in sorted(cells, key=lambda k: -len(block(k))):
        members = [r for r in block(key) if r.id not in used]
        info = categories.get(key[0])
        if info is None or len(members) < int(thresholds.get(info.code, HOTSPOT_MIN)):
            continue
        used.update(r.id for r in members)
        found.append({"category": info.name, "lat": sum(m.lat for m in members) / len(members),
                      "lng": sum(m.lng for m in members) / len(members), "tickets": sorted(r.id for r in members)})
    return sorted(found, key=lambda h: -len(h["tickets"]))


def readable_opinion(opinion_id: int, actor: Actor | None) -> Opinion:
    opinion = db.session.get(Opinion, opinion_id)
    if opinion is None:
        raise NotFound("意见不存在", key="opinion_not_found")
    readable(opinion.topic_id, actor)
    return opinion


def topic_votes(topic: Topic) -> list[int]:
    return list(db.session.execute(sa.select(Vote.id).where(Vote.topic_id == topic.id).order_by(Vote.id)).scalars())


def follows_topic(actor: Actor, topic: Topic) -> bool:
    return db.session.execute(sa.select(Follow.id).where(Follow.user_id == actor.id, Follow.topic_id == topic.id)
                              ).first() is not None


def held_opinions(actor: Actor, limit: int = 50) -> list:
    """Opinions waiting for a moderator, with their topics, in the units the actor
    moderates, newest first (the office console's moderation queue)."""
    paths = scope_paths(actor, roles=ticket_lc.MODERATORS)
    if not paths:
        return []
    return list(db.session.execute(
        sa.select(Opinion, Topic).join(Topic, Topic.id == Opinion.topic_id)
        .where(Opinion.held.is_(True), Opinion.hidden.is_(False), Topic.unit_id.in_(subtree_ids(paths)))
        .order_by(Opinion.id.desc()).limit(limit)).all())
