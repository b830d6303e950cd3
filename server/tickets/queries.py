"""The read side: filtered, keyset-paginated selects (newest first, by id)."""
from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.orm import defer, joinedload

from ..auth.models import User
from ..categories.models import Category
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from ..units.geo import distance_m, to_wgs84
from ..units.locator import subtree_ids
from ..units.models import Unit, UnitResponsible
from . import lifecycle as lc
from .models import Ticket, TicketEvent
from .permissions import can_read, is_staff_for, scope_paths, staff_roles_in


# A ticket as the read views show it: its category and unit by the few columns the
# presenter and the permission checks read (the ticket's own columns are nearly all shown).
_CATEGORY = joinedload(Ticket.category).load_only(Category.id, Category.code, Category.name, Category.icon)
_UNIT = joinedload(Ticket.unit).load_only(Unit.id, Unit.code, Unit.name, Unit.path)
# Lists (a page of tickets shown, never changed) also leave out the ticket columns no list shows.
_SHOWN = (_CATEGORY, _UNIT, defer(Ticket.hidden), defer(Ticket.personal_data_erased_at),
          defer(Ticket.supervising_unit_id), defer(Ticket.updated_at))
_DETAIL = (_CATEGORY, _UNIT.joinedload(Unit.responsibles).load_only(UnitResponsible.name, UnitResponsible.title))


def _in_paths(paths: list[str]):
    """Tickets of the units at or below these paths, as a plain list of unit ids looked up
    first: MySQL/MariaDB answers it by walking the primary key backwards and stopping at the
    page. Given a subquery instead, it joins every ticket of the subtree and sorts them all
    (a second at 1,000,000 tickets)."""
    return Ticket.unit_id.in_(subtree_ids(paths))


def list_tickets(user: User, scope="mine", status=None, category=None, overdue=None, unit=None,
                 limit=20, cursor=None, coord="wgs84") -> dict:
    """mine: reported by me or assigned to me; unit: the units of my posts and below;
    supervision: overdue tickets escalated to the units of my posts (督办)."""
    query = sa.select(Ticket).options(*_SHOWN)
    if scope == "mine":
        query = query.where(sa.or_(Ticket.reporter_id == user.id, Ticket.assignee_id == user.id))
    else:
        paths = scope_paths(user)
        if not paths:
            raise Forbidden("只有工作人员可以查看单位的问题", key="not_staff")
        if scope == "unit":
            query = query.where(_in_paths(paths))
        else:
            query = query.where(Ticket.supervising_unit_id.in_(subtree_ids(paths)))
    if unit is not None:
        target = db.session.get(Unit, unit)
        if target is None or (scope != "mine" and not staff_roles_in(user, target)):
            raise Forbidden("该单位不在您的管辖范围内", key="unit_out_of_scope")
        query = query.where(_in_paths([target.path]))
    if status:
        query = query.where(Ticket.status.in_([lc.Status(s) for s in status]))
    if category:
        query = query.where(Ticket.category_id.in_(sa.select(Category.id).where(Category.code == category)))
    if overdue is not None:
        query = query.where(Ticket.overdue.is_(overdue))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Ticket.id < after[0])
    rows = db.session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda t: [t.id])


def _public():
    return Ticket.held.is_(False)


def _box(lat: float, lng: float, radius_m: float):
    dlat = radius_m / 111_320
    dlng = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    return sa.and_(Ticket.lat.between(lat - dlat, lat + dlat), Ticket.lng.between(lng - dlng, lng + dlng))


def nearby(lat, lng, coord="wgs84", category=None, radius=200, limit=20) -> list[tuple[Ticket, float]]:
    """Open public tickets within `radius` metres, nearest first.

    A bounding box on the (status, lat, lng) index; the database orders the box by a flat
    approximation of the distance (exact to well under a metre at this scale) and answers
    only the nearest `limit`, the exact distance then drops the box's corners.
    """
    lat, lng = to_wgs84(lat, lng, coord)
    k = math.cos(math.radians(lat))
    flat = (Ticket.lat - lat) * (Ticket.lat - lat) + (Ticket.lng - lng) * (Ticket.lng - lng) * (k * k)
    query = sa.select(Ticket).options(*_SHOWN).where(_public(), Ticket.status.in_(lc.OPEN), _box(lat, lng, radius))
    if category:
        query = query.where(Ticket.category_id.in_(sa.select(Category.id).where(Category.code == category)))
    found = []
    for ticket in db.session.execute(query.order_by(flat, Ticket.id.desc()).limit(limit)).scalars():
        d = distance_m(lat, lng, ticket.lat, ticket.lng)
        if d <= radius:
            found.append((ticket, d))
    found.sort(key=lambda pair: pair[1])
    return found


def in_box(min_lat, min_lng, max_lat, max_lng, coord="wgs84", status="open", limit=100, cursor=None) -> dict:
    """Public tickets in a bounding box, for the map."""
    (a_lat, a_lng), (b_lat, b_lng) = to_wgs84(min_lat, min_lng, coord), to_wgs84(max_lat, max_lng, coord)
    query = sa.select(Ticket).options(*_SHOWN).where(
        _public(), Ticket.lat.between(min(a_lat, b_lat), max(a_lat, b_lat)),
        Ticket.lng.between(min(a_lng, b_lng), max(a_lng, b_lng)))
    if status == "open":
        query = query.where(Ticket.status.in_(lc.OPEN))
    elif status == "closed":
        query = query.where(Ticket.status.not_in(lc.OPEN))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Ticket.id < after[0])
    rows = db.session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda t: [t.id])


def readable_ticket(ticket_id: int, user: User | None) -> Ticket:
    # The unit's responsible people come in the same query: the detail shows them.
    ticket = db.session.get(Ticket, ticket_id, options=_DETAIL)
    if ticket is None or not can_read(user, ticket):
        raise NotFound("问题不存在", key="ticket_not_found")
    return ticket


def events(ticket: Ticket, user: User | None, limit=100, cursor=None) -> dict:
    """The timeline, oldest first; internal notes only for staff in scope."""
    query = sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not is_staff_for(user, ticket):
        query = query.where(TicketEvent.public.is_(True))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(TicketEvent.id > after[0])
    rows = db.session.execute(query.order_by(TicketEvent.id).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda e: [e.id])
