"""Open311 GeoReport v2 over tickets: reading requests and filing them through
`tickets.operations.report` (the mini-program's own operation).

Keys are in `keys`, the per-key limit in `ratelimit`, parsing in `schemas`, the documents
in `formats`; refusals are `Open311Error` (`errors`).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, url_for

from ..auth.actor import Actor
from ..auth.models import User
from ..categories.models import Category
from ..extensions import db
from ..media import signing
from ..media.models import Media
from ..tickets import lifecycle as lc
from ..tickets.models import Ticket, TicketEvent
from ..tickets.reporting import report
from ..units.models import Unit
from . import formats, ratelimit, schemas
from .errors import Open311Error
from .models import ApiKey
from .schemas import RequestQuery
from .settings import setting

_ID = re.compile(r"\d{1,18}")


# --- jurisdiction, discovery, tokens ----------------------------------------------------


def check_jurisdiction(value: str | None) -> None:
    """One jurisdiction per server: any value is accepted unless OPEN311_JURISDICTION_ID
    names ours, and then another value is 404."""
    ours = setting("OPEN311_JURISDICTION_ID")
    if value and ours and value.strip() != ours:
        raise Open311Error(404, f"jurisdiction_id {value.strip()[:64]!r} was not found; this server serves {ours!r}")


def discovery(base_url: str) -> dict:
    return formats.discovery(
        base_url,
        contact=setting("OPEN311_CONTACT", "共治平台管理员：请联系所在街道办事处或区政务服务管理部门"),
        key_service=setting("OPEN311_KEY_SERVICE", "API keys are issued by the administrators of this service "
                            "(flask open311 keys create NAME); ask the contact above."),
        production=current_app.config.get("APP_ENV") == "production",
        rate_limit=ratelimit.describe(),
    )


def _token_mac(ticket_id: int) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"open311-token:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:20]


def issue_token(ticket: Ticket) -> str:
    return f"{ticket.id}-{_token_mac(ticket.id)}"


def resolve_token(token: str) -> Ticket:
    """Requests are created at once, so a token we issued names its request already."""
    match = re.fullmatch(r"(\d{1,18})-([0-9a-f]{20})", token or "")
    if match is None or not hmac.compare_digest(match.group(2), _token_mac(int(match.group(1)))):
        raise Open311Error(404, "token was not found")
    ticket = db.session.get(Ticket, int(match.group(1)))
    if ticket is None or ticket.held:
        raise Open311Error(404, "token was not found")
    return ticket


# --- services ---------------------------------------------------------------------------


def services() -> list[Category]:
    return list(db.session.execute(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.id)
    ).scalars())


def service(code: str) -> Category:
    category = db.session.execute(
        sa.select(Category).where(Category.code == code, Category.active.is_(True))
    ).scalar_one_or_none()
    if category is None:
        raise Open311Error(404, f"service_code {code[:64]!r} was not found")
    return category


# --- reading requests -------------------------------------------------------------------


def find_requests(query: RequestQuery) -> tuple[list[Ticket], bool]:
    """Public tickets, newest first; the second value says whether another page follows."""
    stmt = sa.select(Ticket).where(Ticket.held.is_(False))
    if query.ids:
        rows = db.session.execute(stmt.where(Ticket.id.in_(query.ids)).order_by(Ticket.id.desc())).scalars().all()
        return list(rows), False
    stmt = stmt.where(Ticket.created_at >= query.start, Ticket.created_at <= query.end)
    if query.updated_after is not None:
        stmt = stmt.where(Ticket.updated_at >= query.updated_after)
    if query.codes:
        stmt = stmt.where(Ticket.category_id.in_(sa.select(Category.id).where(Category.code.in_(query.codes))))
    if query.statuses == {"open"}:
        stmt = stmt.where(Ticket.status.in_(lc.OPEN))
    elif query.statuses == {"closed"}:
        stmt = stmt.where(Ticket.status.not_in(lc.OPEN))
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    stmt = stmt.offset((query.page - 1) * query.page_size).limit(query.page_size + 1)
    rows = db.session.execute(stmt).scalars().all()
    return list(rows[:query.page_size]), len(rows) > query.page_size


def get_request(raw_id: str) -> Ticket:
    ticket = db.session.get(Ticket, int(raw_id)) if _ID.fullmatch(raw_id or "") else None
    if ticket is None or ticket.held:
        raise Open311Error(404, f"service_request_id {raw_id[:40]!r} was not found")
    return ticket


def _media_url(item: Media) -> str:
    return url_for("media.serve", key=item.key, _external=True)


def present(tickets: list[Ticket], extensions: bool = False) -> list[dict]:
    """Tickets as GeoReport requests, in a fixed number of queries however many there are."""
    ids = [t.id for t in tickets]
    if not ids:
        return []
    latest_ids = (sa.select(sa.func.max(TicketEvent.id))
                  .where(TicketEvent.ticket_id.in_(ids), TicketEvent.public.is_(True))
                  .group_by(TicketEvent.ticket_id))
    latest = {e.ticket_id: e for e in db.session.execute(
        sa.select(TicketEvent).where(TicketEvent.id.in_(latest_ids))).scalars()}
    photos: dict[int, list[str]] = {}
    for ticket_id, item in db.session.execute(
        sa.select(TicketEvent.ticket_id, Media).join(Media, Media.event_id == TicketEvent.id)
        .where(TicketEvent.ticket_id.in_(ids), TicketEvent.action == "report")
        .order_by(TicketEvent.ticket_id, Media.position)
    ).all():
        photos.setdefault(ticket_id, []).append(_media_url(item))
    out = []
    for ticket in tickets:
        urls = photos.get(ticket.id, [])
        out.append(formats.service_request(ticket, latest.get(ticket.id), urls[0] if urls else None))
    if extensions:
        _extend(tickets, out, photos)
    return out


def _extend(tickets: list[Ticket], out: list[dict], photos: dict[int, list[str]]) -> None:
    ids = [t.id for t in tickets]
    events: dict[int, list[TicketEvent]] = {}
    for ev in db.session.execute(
        sa.select(TicketEvent).where(TicketEvent.ticket_id.in_(ids), TicketEvent.public.is_(True))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    ).scalars():
        events.setdefault(ev.ticket_id, []).append(ev)
    event_ids = [ev.id for evs in events.values() for ev in evs]
    event_media: dict[int, list[str]] = {}
    if event_ids:
        for item in db.session.execute(
            sa.select(Media).where(Media.event_id.in_(event_ids)).order_by(Media.event_id, Media.position)
        ).scalars():
            event_media.setdefault(item.event_id, []).append(_media_url(item))
    unit_ids = {int(p) for t in tickets for p in t.unit.path.strip("/").split("/") if p}
    units = {u.id: u for u in db.session.execute(sa.select(Unit).where(Unit.id.in_(unit_ids))).scalars()}
    for ticket, row in zip(tickets, out):
        path = [units[int(p)] for p in ticket.unit.path.strip("/").split("/") if p and int(p) in units]
        timeline = [formats.timeline_event(ev, event_media.get(ev.id, [])) for ev in events.get(ticket.id, [])]
        row["extended_attributes"] = formats.extended_attributes(
            ticket, [{"code": u.code, "name": u.name, "kind": u.kind} for u in path], timeline,
            photos.get(ticket.id, []))


# --- filing requests --------------------------------------------------------------------


def _own_upload(user: User, media_url: str) -> Media | None:
    """An upload made through POST media with this key and not yet used, named by its URL."""
    prefix = url_for("media.serve", key="x")[:-1]
    path = urlsplit(media_url).path
    if not path.startswith(prefix) or len(path) > 300:
        return None
    return db.session.execute(
        sa.select(Media).where(Media.key == path[len(prefix):], Media.owner_id == user.id, Media.attached_to.is_(None))
        .order_by(Media.id.desc()).limit(1)
    ).scalar_one_or_none()


def create_request(key: ApiKey, form, idempotency_key: str | None = None) -> tuple[Ticket, bool]:
    """POST requests: a real ticket, filed by the key's integration user through
    `tickets.operations.report` (same routing, deadlines, events and notifications).

    A point is required (our tickets are routed by where they are): lat and long in
    WGS-84; address_string alone is refused. The personal fields (email, names, phone,
    device_id, account_id) are read by no one and stored nowhere.
    """
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    category = service(code)
    data, problems = schemas.collect(schemas.FilingSchema(), form)
    media_ids = []
    if data.get("media_url"):
        item = _own_upload(key.user, data["media_url"])
        if item is None:
            problems.append("media_url must be a URL returned by POST media.json or media.xml with this api_key "
                            "and not used before (media elsewhere is not fetched)")
        else:
            media_ids.append(item.id)
    if problems:
        raise Open311Error(400, *problems)
    return report(Actor.of_user(key.user), {
        "category": category.code, "description": data["description"], "lat": data["lat"], "lng": data["lng"],
        "coord": "wgs84", "address": data["address"], "media": media_ids, "anonymous": data["anonymous"],
    }, idempotency_key)


def upload_media(key: ApiKey, file) -> Media:
    from ..media.operations import upload

    if file is None:
        raise Open311Error(400, "file is required (multipart/form-data, one JPEG, PNG or WebP photo)")
    return upload(key.user, file.stream)


def media_document(item: Media) -> dict:
    """A new upload, seen by its integration alone until a request takes it (a signed address)."""
    return formats.media_upload(item.id, _media_url(item) + signing.query(item.key))
