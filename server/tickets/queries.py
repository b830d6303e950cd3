"""The read side: filtered, keyset-paginated selects (newest first, by id)."""
from __future__ import annotations

import math

import sqlalchemy as sa
from .. import directory
from ..auth.models import User
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from ..units.geo import distance_m, to_wgs84
from ..units.locator import subtree_ids
from . import lifecycle as lc
from .models import Ticket, TicketEvent
from .permissions import can_read, is_staff_for, scope_paths, staff_roles_in


_t = Ticket.__table__
_assignee = User.__table__.alias("assignee")
_reporter = User.__table__.alias("reporter")
# A ticket as the read views show it: the columns shown, the assignee's name and the
# reporter's phone (masked, for staff in scope) joined in; its category and unit come from
# the directory (kept per process), not from a join.
_VIEW_COLUMNS = (
    _t.c.id, _t.c.status, _t.c.category_id, _t.c.unit_id, _t.c.reporter_id, _t.c.anonymous, _t.c.description,
    _t.c.lat, _t.c.lng, _t.c.address, _t.c.triage, _t.c.held, _t.c.assignee_id, _t.c.priority, _t.c.respond_by,
    _t.c.resolve_by, _t.c.responded_at, _t.c.resolved_at, _t.c.closed_at, _t.c.overdue, _t.c.redo_count,
    _t.c.return_reason, _t.c.duplicate_of_id, _t.c.rating, _t.c.rating_comment, _t.c.supporters, _t.c.report_media, _t.c.version,
    _t.c.created_at, _assignee.c.nickname.label("assignee_nickname"), _reporter.c.phone_enc.label("reporter_phone_enc"),
)
_VIEW_KEYS = tuple(c.key for c in _VIEW_COLUMNS)
_VIEW = sa.select(*_VIEW_COLUMNS).select_from(
    _t.outerjoin(_assignee, _assignee.c.id == _t.c.assignee_id).outerjoin(_reporter, _reporter.c.id == _t.c.reporter_id))
# Built once: SQLAlchemy keeps the cache key and the compiled SQL of a statement it sees again.
_VIEW_BY_ID = _VIEW.where(_t.c.id == sa.bindparam("id"))
_VIEWS_BY_IDS = _VIEW.where(_t.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(_t.c.id.desc())


class TicketView:
    """A ticket as a read shows it: its columns by their model names, `category` and `unit`
    from the directory, `assignee_nickname` and `reporter_phone_enc`. The presenters and the
    permission checks read it as they would a Ticket; nothing writes it."""

    def __init__(self, row, category, unit):
        self.__dict__.update(zip(_VIEW_KEYS, row))
        self.category = category
        self.unit = unit


def _views(rows) -> list[TicketView]:
    rows = list(rows)
    units = directory.units({row.unit_id for row in rows})
    categories = directory.categories()
    return [TicketView(row, categories[row.category_id], units[row.unit_id]) for row in rows]


def _run(statement, params=None) -> list[TicketView]:
    return _views(db.session.connection().execute(statement, params or {}))


def view(ticket_id: int) -> TicketView:
    """The ticket as read views show it (after a change: what this transaction wrote)."""
    found = _run(_VIEW_BY_ID, {"id": ticket_id})
    if not found:
        raise NotFound("问题不存在", key="ticket_not_found")
    return found[0]


def views(ticket_ids: list[int]) -> list[TicketView]:
    """These tickets as read views show them, newest first."""
    return _run(_VIEWS_BY_IDS, {"ids": list(ticket_ids)}) if ticket_ids else []


def _in_paths(paths: list[str]):
    """Tickets of the units at or below these paths, as a plain list of unit ids looked up
    first: MySQL/MariaDB answers it by walking the primary key backwards and stopping at the
    page. Given a subquery instead, it joins every ticket of the subtree and sorts them all
    (a second at 1,000,000 tickets)."""
    return _t.c.unit_id.in_(subtree_ids(paths))


def list_tickets(user: User, scope="mine", status=None, category=None, overdue=None, unit=None,
                 limit=20, cursor=None, coord="wgs84") -> dict:
    """mine: reported by me or assigned to me; unit: the units of my posts and below;
    supervision: overdue tickets escalated to the units of my posts (督办)."""
    query = _VIEW
    if scope == "mine":
        query = query.where(sa.or_(_t.c.reporter_id == user.id, _t.c.assignee_id == user.id))
    else:
        paths = scope_paths(user)
        if not paths:
            raise Forbidden("只有工作人员可以查看单位的问题", key="not_staff")
        if scope == "unit":
            query = query.where(_in_paths(paths))
        else:
            query = query.where(_t.c.supervising_unit_id.in_(subtree_ids(paths)))
    if unit is not None:
        target = directory.unit(unit)
        if target is None or (scope != "mine" and not staff_roles_in(user, target)):
            raise Forbidden("该单位不在您的管辖范围内", key="unit_out_of_scope")
        query = query.where(_in_paths([target.path]))
    if status:
        query = query.where(_t.c.status.in_([lc.Status(s) for s in status]))
    if category:
        query = query.where(_t.c.category_id.in_(_category_id(category)))
    if overdue is not None:
        query = query.where(_t.c.overdue.is_(overdue))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(_t.c.id < after[0])
    rows = _run(query.order_by(_t.c.id.desc()).limit(limit + 1))
    return page(rows, limit, lambda t: [t.id])


def _category_id(code: str) -> list[int]:
    return [c.id for c in directory.categories().values() if c.code == code]


def _public():
    return _t.c.held.is_(False)


def _box(lat: float, lng: float, radius_m: float):
    dlat = radius_m / 111_320
    dlng = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    return sa.and_(_t.c.lat.between(lat - dlat, lat + dlat), _t.c.lng.between(lng - dlng, lng + dlng))


def nearby(lat, lng, coord="wgs84", category=None, radius=200, limit=20) -> list[tuple[TicketView, float]]:
    """Open public tickets within `radius` metres, nearest first.

    A bounding box on the (status, lat, lng) index; the database orders the box by a flat
    approximation of the distance (exact to well under a metre at this scale) and answers
    only the nearest `limit`, the exact distance then drops the box's corners.
    """
    lat, lng = to_wgs84(lat, lng, coord)
    k = math.cos(math.radians(lat))
    flat = (_t.c.lat - lat) * (_t.c.lat - lat) + (_t.c.lng - lng) * (_t.c.lng - lng) * (k * k)
    query = _VIEW.where(_public(), _t.c.status.in_(lc.OPEN), _box(lat, lng, radius))
    if category:
        query = query.where(_t.c.category_id.in_(_category_id(category)))
    found = []
    for ticket in _run(query.order_by(flat, _t.c.id.desc()).limit(limit)):
        d = distance_m(lat, lng, ticket.lat, ticket.lng)
        if d <= radius:
            found.append((ticket, d))
    found.sort(key=lambda pair: pair[1])
    return found


def in_box(min_lat, min_lng, max_lat, max_lng, coord="wgs84", status="open", limit=100, cursor=None) -> dict:
    """Public tickets in a bounding box, for the map."""
    (a_lat, a_lng), (b_lat, b_lng) = to_wgs84(min_lat, min_lng, coord), to_wgs84(max_lat, max_lng, coord)
    query = _VIEW.where(
        _public(), _t.c.lat.between(min(a_lat, b_lat), max(a_lat, b_lat)),
        _t.c.lng.between(min(a_lng, b_lng), max(a_lng, b_lng)))
    if status == "open":
        query = query.where(_t.c.status.in_(lc.OPEN))
    elif status == "closed":
        query = query.where(_t.c.status.not_in(lc.OPEN))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(_t.c.id < after[0])
    rows = _run(query.order_by(_t.c.id.desc()).limit(limit + 1))
    return page(rows, limit, lambda t: [t.id])


def readable_view(ticket_id: int, user) -> TicketView:
    """The ticket as the viewer may read it (held ones: its reporter and staff in scope)."""
    found = _run(_VIEW_BY_ID, {"id": ticket_id})
    if not found or not can_read(user, found[0]):
        raise NotFound("问题不存在", key="ticket_not_found")
    return found[0]


def readable_ticket(ticket_id: int, user: User | None) -> Ticket:
    """The ticket row to change or to read its timeline, if the viewer may read it."""
    ticket = db.session.get(Ticket, ticket_id)
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
