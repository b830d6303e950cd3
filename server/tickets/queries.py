"""The read side: filtered, keyset-paginated selects (newest first, by id)."""
from __future__ import annotations

import functools
import math

import sqlalchemy as sa

from .. import directory, jsonio
from ..auth.actor import Actor
from ..auth.models import User
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..media.models import Media
from ..paging import decode_cursor, page
from ..sqljson import json_object, utc_iso
from ..timeutil import UTCDateTime, isoformat
from ..units.geo import distance_m, to_wgs84
from ..units.locator import subtree_ids
from ..units.scope import scope_paths, staff_roles_in
from . import lifecycle as lc
from .models import Ticket, TicketEvent
from .permissions import can_read, is_staff_for

_t = Ticket.__table__
_assignee = User.__table__.alias("assignee")
_reporter = User.__table__.alias("reporter")


# A ticket as the read views show it: the columns shown and the assignee's name joined in
# (on a ticket's own page, the reporter's phone too: masked, for staff in scope; lists show
# none); its category and unit come from the directory (kept per process), not from a join.
# The database answers each ticket as one JSON object: the driver then parses one value a
# row instead of thirty-one values and their column descriptions (in pure Python, PyMySQL's
# largest cost on a page of tickets).
_VIEW_COLUMNS = (
    _t.c.id, _t.c.status, _t.c.category_id, _t.c.unit_id, _t.c.reporter_id, _t.c.anonymous, _t.c.description,
    _t.c.lat, _t.c.lng, _t.c.address, _t.c.triage, _t.c.held, _t.c.hidden, _t.c.assignee_id, _t.c.priority,
    _t.c.respond_by,
    _t.c.resolve_by, _t.c.responded_at, _t.c.resolved_at, _t.c.closed_at, _t.c.overdue, _t.c.redo_count,
    _t.c.return_reason, _t.c.duplicate_of_id, _t.c.rating, _t.c.rating_comment, _t.c.supporters, _t.c.report_media,
    _t.c.version, _t.c.created_at, _assignee.c.nickname.label("assignee_nickname"),
)
_TIMES = tuple(c.key for c in _VIEW_COLUMNS if isinstance(c.type, UTCDateTime))
_FLAGS = tuple(c.key for c in _VIEW_COLUMNS if isinstance(c.type, sa.Boolean))
_WITH_ASSIGNEE = _t.outerjoin(_assignee, _assignee.c.id == _t.c.assignee_id)
_VIEW = sa.select(json_object(_VIEW_COLUMNS)).select_from(_WITH_ASSIGNEE)
# Built once: SQLAlchemy keeps the cache key and the compiled SQL of a statement it sees again.
_VIEW_BY_ID = sa.select(
    json_object((*_VIEW_COLUMNS, _reporter.c.phone_enc.label("reporter_phone_enc")))
).select_from(
    _WITH_ASSIGNEE.outerjoin(_reporter, _reporter.c.id == _t.c.reporter_id)
).where(_t.c.id == sa.bindparam("id"))
_VIEWS_BY_IDS = _VIEW.where(_t.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(_t.c.id.desc())


class TicketView:
    """A ticket as a read shows it: its columns by their model names (times as answers
    write them, ISO 8601 in UTC; flags bool), `category` and `unit` from the directory,
    `assignee_nickname` and `reporter_phone_enc` (None in lists). The permission checks
    read it as they would a Ticket, the presenters show it; nothing writes it."""

    def __init__(self, fields: dict, category, unit):
        fields.setdefault("reporter_phone_enc", None)
        for name in _TIMES:
            if fields[name] is not None:
                fields[name] = utc_iso(fields[name])
        for name in _FLAGS:
            fields[name] = bool(fields[name])
        if isinstance(fields["report_media"], str):  # SQLite nests a JSON column as its text
            fields["report_media"] = jsonio.loads(fields["report_media"])
        self.__dict__.update(fields)
        self.category = category
        self.unit = unit


def _views(rows) -> list[TicketView]:
    found = [jsonio.loads(text) for text, in rows.fetchall()]
    units = directory.units({f["unit_id"] for f in found})
    categories = directory.categories()
    return [TicketView(f, categories[f["category_id"]], units[f["unit_id"]]) for f in found]


def _run(statement, params=None) -> list[TicketView]:
    # The statement named to the session: inside replica_read() a read may go to the replica.
    return _views(db.session.connection(bind_arguments={"clause": statement}).execute(statement, params or {}))


def view(ticket_id: int) -> TicketView:
    """The ticket as read views show it (after a change: what this transaction wrote)."""
    found = _run(_VIEW_BY_ID, {"id": ticket_id})
    if not found:
        raise NotFound("问题不存在", key="ticket_not_found")
    return found[0]


def view_of_report(ticket: Ticket) -> TicketView:
    """A report this request has just filed, as read views show it, from the row it wrote:
    nobody is assigned yet and its reporter is the viewer (the presenter shows them their
    own phone), so there is nothing to read back."""
    view = TicketView.__new__(TicketView)
    fields = {c.key: getattr(ticket, c.key) for c in _VIEW_COLUMNS if c.table is _t}
    for name in _TIMES:
        fields[name] = isoformat(fields[name])
    fields.update(status=lc.Status(ticket.status).value, assignee_nickname=None, reporter_phone_enc=None)
    view.__dict__.update(fields)
    view.category = directory.categories()[ticket.category_id]
    view.unit = directory.unit(ticket.unit_id)
    return view


def views(ticket_ids: list[int]) -> list[TicketView]:
    """These tickets as read views show them, newest first."""
    return _run(_VIEWS_BY_IDS, {"ids": list(ticket_ids)}) if ticket_ids else []


def _ids(name: str):
    return sa.bindparam(name, expanding=True)


_LIST_FILTERS = frozenset({"units", "statuses", "categories", "after"})


@functools.lru_cache(maxsize=64)
def _list_statement(scope: str, overdue: bool | None, filters: frozenset[str]) -> sa.Select:
    """The list's statement for a scope and the filters a request uses. Its arguments are
    the whole of what builds it, so they are its cache key: a request only binds values,
    and SQLAlchemy finds the compiled SQL by the statement's memoised key (a list request
    builds no statement: about 0.1 ms of Python each)."""
    query = _VIEW
    if scope == "mine":
        query = query.where(sa.or_(_t.c.reporter_id == sa.bindparam("me"), _t.c.assignee_id == sa.bindparam("me")))
    elif scope == "unit":
        query = query.where(_t.c.unit_id.in_(_ids("scope")))
    else:
        query = query.where(_t.c.supervising_unit_id.in_(_ids("scope")))
    if "units" in filters:
        query = query.where(_t.c.unit_id.in_(_ids("units")))
    if "statuses" in filters:
        query = query.where(_t.c.status.in_(_ids("statuses")))
    if "categories" in filters:
        query = query.where(_t.c.category_id.in_(_ids("categories")))
    if overdue is not None:
        query = query.where(_t.c.overdue.is_(overdue))
    if "after" in filters:
        query = query.where(_t.c.id < sa.bindparam("after"))
    return query.order_by(_t.c.id.desc()).limit(sa.bindparam("limit"))


def list_tickets(user: Actor, scope="mine", status=None, category=None, overdue=None, unit=None,
                 limit=20, cursor=None, coord="wgs84") -> dict:
    """mine: reported by me or assigned to me; unit: the units of my posts and below;
    supervision: overdue tickets escalated to the units of my posts (督办).

    A scope is a plain list of unit ids looked up first (kept per process): MySQL/MariaDB
    answers `unit_id IN (...)` by walking the primary key backwards and stopping at the
    page. Given a subquery instead, it joins every ticket of the subtree and sorts them all
    (a second at 1,000,000 tickets)."""
    params: dict = {"limit": limit + 1}
    if scope == "mine":
        params["me"] = user.id
    else:
        paths = scope_paths(user)
        if not paths:
            raise Forbidden("只有工作人员可以查看单位的问题", key="not_staff")
        params["scope"] = subtree_ids(paths)
    if unit is not None:
        target = directory.unit(unit)
        if target is None or (scope != "mine" and not staff_roles_in(user, target)):
            raise Forbidden("该单位不在您的管辖范围内", key="unit_out_of_scope")
        params["units"] = subtree_ids([target.path])
    if status:
        params["statuses"] = [lc.Status(s) for s in status]
    if category:
        params["categories"] = _category_id(category)
    after = decode_cursor(cursor, 1)
    if after:
        params["after"] = after[0]

    filters = frozenset(params) & _LIST_FILTERS
    rows = _run(_list_statement(scope, overdue, filters), params)
    return page(rows, limit, lambda t: [t.id])


def _category_id(code: str) -> list[int]:
    return [c.id for c in directory.categories().values() if c.code == code]


def _public():
    return _t.c.held.is_(False)


@functools.lru_cache(maxsize=2)
def _nearby_statement(by_category: bool) -> sa.Select:
    lat, lng = sa.bindparam("lat", type_=sa.Double), sa.bindparam("lng", type_=sa.Double)
    flat = (_t.c.lat - lat) * (_t.c.lat - lat) + (_t.c.lng - lng) * (_t.c.lng - lng) * sa.bindparam("k2", type_=sa.Double)
    query = _VIEW.where(_public(), _t.c.status.in_(lc.OPEN),
                        _t.c.lat.between(sa.bindparam("lat_lo"), sa.bindparam("lat_hi")),
                        _t.c.lng.between(sa.bindparam("lng_lo"), sa.bindparam("lng_hi")))
    if by_category:
        query = query.where(_t.c.category_id.in_(_ids("categories")))
    return query.order_by(flat, _t.c.id.desc()).limit(sa.bindparam("limit"))


def nearby(lat, lng, coord="wgs84", category=None, radius=200, limit=20) -> list[tuple[TicketView, float]]:
    """Open public tickets within `radius` metres, nearest first.

    A bounding box on the (status, lat, lng) index; the database orders the box by a flat
    approximation of the distance (exact to well under a metre at this scale) and answers
    only the nearest `limit`, the exact distance then drops the box's corners.
    """
    lat, lng = to_wgs84(lat, lng, coord)
    k = math.cos(math.radians(lat))
    dlat = radius / 111_320
    dlng = radius / (111_320 * max(k, 0.01))
    params = {"lat": lat, "lng": lng, "k2": k * k, "lat_lo": lat - dlat, "lat_hi": lat + dlat,
              "lng_lo": lng - dlng, "lng_hi": lng + dlng, "limit": limit}
    if category:
        params["categories"] = _category_id(category)
    statement = _nearby_statement(bool(category))
    found = []
    for ticket in _run(statement, params):
        d = distance_m(lat, lng, ticket.lat, ticket.lng)
        if d <= radius:
            found.append((ticket, d))
    found.sort(key=lambda pair: pair[1])
    return found


@functools.lru_cache(maxsize=8)
def _box_statement(status: str, after: bool) -> sa.Select:
    query = _VIEW.where(_public(), _t.c.lat.between(sa.bindparam("lat_lo"), sa.bindparam("lat_hi")),
                        _t.c.lng.between(sa.bindparam("lng_lo"), sa.bindparam("lng_hi")))
    if status == "open":
        query = query.where(_t.c.status.in_(lc.OPEN))
    elif status == "closed":
        query = query.where(_t.c.status.not_in(lc.OPEN))
    if after:
        query = query.where(_t.c.id < sa.bindparam("after"))
    return query.order_by(_t.c.id.desc()).limit(sa.bindparam("limit"))


def in_box(min_lat, min_lng, max_lat, max_lng, coord="wgs84", status="open", limit=100, cursor=None) -> dict:
    """Public tickets in a bounding box, for the map."""
    (a_lat, a_lng), (b_lat, b_lng) = to_wgs84(min_lat, min_lng, coord), to_wgs84(max_lat, max_lng, coord)
    params = {"lat_lo": min(a_lat, b_lat), "lat_hi": max(a_lat, b_lat), "lng_lo": min(a_lng, b_lng),
              "lng_hi": max(a_lng, b_lng), "limit": limit + 1}
    after = decode_cursor(cursor, 1)
    if after:
        params["after"] = after[0]

    rows = _run(_box_statement(status, bool(after)), params)
    return page(rows, limit, lambda t: [t.id])


def readable_view(ticket_id: int, user) -> TicketView:
    """The ticket as the viewer may read it (held ones: its reporter and staff in scope)."""
    ticket = view(ticket_id)
    if not can_read(user, ticket):
        raise NotFound("问题不存在", key="ticket_not_found")
    return ticket


def readable_ticket(ticket_id: int, user: Actor | None) -> Ticket:
    """The ticket row to change or to read its timeline, if the viewer may read it."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_read(user, ticket):
        raise NotFound("问题不存在", key="ticket_not_found")
    return ticket


def events(ticket: Ticket, user: Actor | None, limit=100, cursor=None) -> dict:
    """The timeline, oldest first; internal notes only for staff in scope."""
    query = sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    if not is_staff_for(user, ticket):
        query = query.where(TicketEvent.public.is_(True))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(TicketEvent.id > after[0])
    rows = db.session.execute(query.order_by(TicketEvent.id).limit(limit + 1)).scalars().all()
    return page(rows, limit, lambda e: [e.id])


def photo_is_public(key: str) -> bool:
    """Whether anyone may see this photo (or thumbnail): it belongs to a public event of a
    ticket the public reads. Anything else is served only under a signed address."""
    m, e = Media.__table__, TicketEvent.__table__
    found = db.session.execute(
        sa.select(sa.literal(1)).select_from(m.join(e, e.c.id == m.c.event_id).join(_t, _t.c.id == e.c.ticket_id))
        .where(sa.or_(m.c.key == key, m.c.thumb_key == key), e.c.public.is_(True), _t.c.held.is_(False),
               _t.c.hidden.is_(False)).limit(1)).first()
    return found is not None
