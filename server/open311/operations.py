"""Open311 GeoReport v2 over tickets: API keys, the per-key rate limit, reading requests
and filing them through `tickets.operations.report` (the mini-program's own operation).

Errors are `Open311Error`: an HTTP status and the spec's list of (code, description).
Descriptions are English, like the spec's examples and the parameter names they talk
about; a refusal that comes from a ticket rule carries its stable key and its Chinese
sentence for the person who filed it.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.exc import IntegrityError

from ..auth.actor import Actor
from ..auth.models import User
from ..categories.models import Category
from ..extensions import db
from ..media.models import Media
from ..tickets import lifecycle as lc
from ..tickets.models import Ticket, TicketEvent
from ..tickets.presenters import ACTOR_LABELS
from ..tickets.reporting import report
from ..timeutil import SHANGHAI, utcnow
from ..units.models import Unit
from . import formats
from .models import ApiKey, RateWindow

log = logging.getLogger(__name__)

MAX_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
MAX_DESCRIPTION = 4000  # the spec's limit
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")


class Open311Error(Exception):
    def __init__(self, status: int, *problems: str, headers: dict | None = None):
        super().__init__(problems[0] if problems else str(status))
        self.status = status
        self.problems = [(status, p) for p in problems]
        self.headers = headers or {}


def _setting(name: str, default: str = "") -> str:
    """A setting from the app config (server/config.py), or the default when it is empty."""
    value = current_app.config.get(name)
    return str(value).strip() if value not in (None, "") else default


# --- API keys -------------------------------------------------------------------------


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(name: str) -> tuple[ApiKey, str]:
    """A new key and its integration user (openid "open311:<key id>"). Returns the key
    once; only its hash is kept."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise ValueError("the key name must be 1 to 64 characters")
    if db.session.execute(sa.select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise ValueError(f"a key named {name!r} exists already")
    raw = "o311_" + secrets.token_urlsafe(32)
    user = User(openid="open311:new:" + secrets.token_hex(8), nickname=name)
    db.session.add(user)
    db.session.flush()
    key = ApiKey(name=name, key_hash=_hash(raw), user_id=user.id, created_at=utcnow())
    db.session.add(key)
    db.session.flush()
    user.openid = f"open311:{key.id}"
    db.session.flush()
    return key, raw


def list_keys() -> list[ApiKey]:
    return db.session.execute(sa.select(ApiKey).order_by(ApiKey.id)).scalars().all()


def revoke_key(name: str) -> ApiKey:
    key = db.session.execute(sa.select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none()
    if key is None:
        raise ValueError(f"no key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.session.flush()
    return key


def authenticate(raw: str | None, required: bool) -> ApiKey | None:
    """The active key, None when none was sent and none is needed; 403 otherwise."""
    if not raw:
        if required:
            raise Open311Error(403, "api_key is required to create a service request")
        return None
    if len(raw) > 128:
        raise Open311Error(403, "Invalid api_key received")
    key = db.session.execute(
        sa.select(ApiKey).where(ApiKey.key_hash == _hash(raw), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    if key is None:
        raise Open311Error(403, "Invalid api_key received")
    return key


# --- rate limit -----------------------------------------------------------------------


def rate_limit() -> int:
    """OPEN311_RATE_LIMIT requests per key per minute (60 by default; 0 turns it off)."""
    raw = _setting("OPEN311_RATE_LIMIT", "60")
    try:
        return int(raw.split("/")[0])
    except ValueError:
        log.warning("OPEN311_RATE_LIMIT=%r is not a number; using 60", raw)
        return 60


def _redis_client():
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        return None
    clients = current_app.extensions.setdefault("gongzhi.open311.redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return clients[url]


def _redis_hits(client, key_id: int, minute: int) -> int:
    name = f"gongzhi:open311:rate:{key_id}:{minute}"
    pipe = client.pipeline()
    pipe.incr(name)
    pipe.expire(name, 120)
    hits, _ = pipe.execute()
    return int(hits)


def _db_hits(key_id: int, minute: int) -> int:
    """Count one hit in its own short transaction, so every worker sees it at once and a
    request that fails later still counts."""
    t = RateWindow.__table__
    this = sa.and_(t.c.key_id == key_id, t.c.minute == minute)
    with db.engine.begin() as conn:
        if conn.execute(sa.update(t).where(this).values(hits=t.c.hits + 1)).rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(t).values(key_id=key_id, minute=minute, hits=1))
            except IntegrityError:  # another worker opened the window first
                conn.execute(sa.update(t).where(this).values(hits=t.c.hits + 1))
            conn.execute(sa.delete(t).where(t.c.key_id == key_id, t.c.minute < minute - 1))
        return conn.execute(sa.select(t.c.hits).where(this)).scalar_one()


def throttle(key: ApiKey, now: float | None = None) -> int:
    """Count a request against its key's fixed one-minute window; 429 over the limit.

    Kept in Redis when REDIS_URL is set (falling back to the database if Redis fails),
    else in the database. Returns the hits in this window.
    """
    limit = rate_limit()
    if limit <= 0:
        return 0
    now = time.time() if now is None else now
    minute = int(now // 60)
    hits = None
    client = _redis_client()
    if client is not None:
        try:
            hits = _redis_hits(client, key.id, minute)
        except redis.RedisError as err:
            log.warning("open311 rate limit: redis unavailable (%s); counting in the database", type(err).__name__)
    if hits is None:
        hits = _db_hits(key.id, minute)
    if hits > limit:
        retry = max(1, math.ceil((minute + 1) * 60 - now))
        raise Open311Error(429, f"Rate limit exceeded: {limit} requests per minute per api_key; "
                                f"retry after {retry} seconds", headers={"Retry-After": str(retry)})
    return hits


# --- jurisdiction, tokens -------------------------------------------------------------


def check_jurisdiction(value: str | None) -> None:
    """One jurisdiction per server: any value is accepted unless OPEN311_JURISDICTION_ID
    names ours, and then another value is 404."""
    ours = _setting("OPEN311_JURISDICTION_ID")
    if value and ours and value.strip() != ours:
        raise Open311Error(404, f"jurisdiction_id {value.strip()[:64]!r} was not found; this server serves {ours!r}")


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


# --- discovery ----------------------------------------------------------------------------

CHANGESET = "2026-11-24T00:00:00+08:00"  # when this endpoint last changed in a way clients see


def discovery(base_url: str) -> dict:
    limit = rate_limit()
    return {
        "changeset": CHANGESET,
        "contact": _setting("OPEN311_CONTACT", "共治平台管理员：请联系所在街道办事处或区政务服务管理部门"),
        "key_service": _setting("OPEN311_KEY_SERVICE", "API keys are issued by the administrators of this "
                                "service (flask open311 keys create NAME); ask the contact above."),
        "endpoints": [{
            "specification": formats.SPECIFICATION,
            "url": base_url,
            "changeset": CHANGESET,
            "type": "production" if current_app.config.get("APP_ENV") == "production" else "test",
            "formats": ["text/xml", "application/json"],
        }],
        "notes": [
            "POST requests needs lat and long (WGS-84): requests are routed by their point, so address_string "
            "or address_id alone is answered 400.",
            "Every service is realtime: POST requests answers the service_request_id at once. With extensions=true "
            "it also gives a token, which tokens/{token} answers at once; any other token is 404.",
            "Extensions: page and page_size (at most 1000) on GET requests; extensions=true adds "
            "extended_attributes (unit path, public timeline, rating); POST media.{format} (multipart file, "
            "api_key) uploads a photo whose media_url POST requests may carry.",
            f"Rate limit: {limit} requests per minute per api_key (429 with Retry-After)." if limit > 0
            else "No rate limit is set.",
            "Error descriptions are English; a refusal by a ticket rule adds its key and a Chinese sentence.",
        ],
    }


# --- services ---------------------------------------------------------------------------


def services() -> list[Category]:
    return db.session.execute(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.id)
    ).scalars().all()


def service(code: str) -> Category:
    category = db.session.execute(
        sa.select(Category).where(Category.code == code, Category.active.is_(True))
    ).scalar_one_or_none()
    if category is None:
        raise Open311Error(404, f"service_code {code[:64]!r} was not found")
    return category


# --- reading requests -------------------------------------------------------------------


@dataclass
class RequestQuery:
    ids: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def _listed(args, name: str) -> list[str]:
    """A parameter that may be repeated and comma delimited; empty means absent."""
    values = []
    for raw in args.getlist(name):
        values += [part.strip() for part in raw.split(",") if part.strip()]
    return values


_W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_w3c(name: str, raw: str, end_of_day: bool = False) -> datetime:
    """A W3C datetime with its offset (Z or +hh:mm), or a date alone, read as a day in
    Asia/Shanghai (an end_date date includes that whole day)."""
    raw = raw.strip()
    try:
        if _W3C.fullmatch(raw):
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if _DATE.fullmatch(raw):
            day = date.fromisoformat(raw)
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, dtime(0), tzinfo=SHANGHAI)
    except ValueError:
        pass
    raise Open311Error(400, f"{name} must be a W3C datetime with an offset, e.g. 2026-01-01T00:00:00+08:00 "
                            f"or 2026-01-01T00:00:00Z (got {raw[:40]!r})")


def _positive(args, name: str, default: int, maximum: int | None = None) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise Open311Error(400, f"{name} must be a positive whole number")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise Open311Error(400, f"{name} may be at most {maximum}")
    return value


def parse_query(args, now: datetime | None = None) -> RequestQuery:
    """The GET requests filters, checked; several problems are answered together."""
    now = now or utcnow()
    problems: list[str] = []
    query = RequestQuery()
    ids = _listed(args, "service_request_id")
    if ids:
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
        bad = [i for i in ids if not re.fullmatch(r"\d{1,18}", i)]
        if bad:
            raise Open311Error(400, f"service_request_id must be numbers (got {bad[0][:40]!r})")
        query.ids = sorted({int(i) for i in ids}, reverse=True)
        return query  # overrides every other argument
    codes = _listed(args, "service_code")
    if len(codes) > 100:
        raise Open311Error(400, "at most 100 service_code values at once")
    if codes:
        known = set(db.session.execute(sa.select(Category.code).where(Category.code.in_(codes))).scalars())
        problems += [f"service_code {c[:64]!r} was not found" for c in codes if c not in known]
        query.codes = codes
    statuses = {s.lower() for s in _listed(args, "status")}
    problems += [f"status must be open or closed (got {s[:20]!r})" for s in sorted(statuses - {"open", "closed"})]
    query.statuses = statuses
    for name, checked in (("page", lambda: _positive(args, "page", 1)),
                          ("page_size", lambda: _positive(args, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE))):
        try:
            setattr(query, name, checked())
        except Open311Error as err:
            problems += [p for _, p in err.problems]
    start_raw, end_raw = (args.get("start_date") or "").strip(), (args.get("end_date") or "").strip()
    start = end = None
    for name, raw in (("start_date", start_raw), ("end_date", end_raw)):
        if raw:
            try:
                value = parse_w3c(name, raw, end_of_day=name == "end_date")
            except Open311Error as err:
                problems += [p for _, p in err.problems]
                continue
            if name == "start_date":
                start = value
            else:
                end = value
    if problems:
        raise Open311Error(400, *problems)
    if start is None and end is None:
        end = now
        start = now - MAX_SPAN
    elif start is None:
        start = end - MAX_SPAN
    elif end is None:
        end = min(start + MAX_SPAN, max(now, start))
    if end < start:
        raise Open311Error(400, "end_date must not be before start_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    query.start, query.end = start, end
    return query


def _public():
    return Ticket.held.is_(False)


def find_requests(query: RequestQuery) -> tuple[list[Ticket], bool]:
    """Public tickets, newest first; the second value says whether another page follows."""
    stmt = sa.select(Ticket).where(_public())
    if query.ids:
        rows = db.session.execute(stmt.where(Ticket.id.in_(query.ids)).order_by(Ticket.id.desc())).scalars().all()
        return rows, False
    stmt = stmt.where(Ticket.created_at >= query.start, Ticket.created_at <= query.end)
    if query.codes:
        stmt = stmt.where(Ticket.category_id.in_(sa.select(Category.id).where(Category.code.in_(query.codes))))
    if query.statuses == {"open"}:
        stmt = stmt.where(Ticket.status.in_(lc.OPEN))
    elif query.statuses == {"closed"}:
        stmt = stmt.where(Ticket.status.not_in(lc.OPEN))
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    stmt = stmt.offset((query.page - 1) * query.page_size).limit(query.page_size + 1)
    rows = db.session.execute(stmt).scalars().all()
    return rows[:query.page_size], len(rows) > query.page_size


def get_request(raw_id: str) -> Ticket:
    ticket = db.session.get(Ticket, int(raw_id)) if re.fullmatch(r"\d{1,18}", raw_id or "") else None
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
        timeline = [{
            "action": ev.action,
            "status": lc.Status(ev.to_status).value,
            "status_label": lc.STATUS_LABELS[lc.Status(ev.to_status)],
            "actor": ACTOR_LABELS.get(ev.actor_role, ev.actor_role),
            "note": ev.note or "",
            "datetime": formats.w3c(ev.created_at),
            "media_urls": event_media.get(ev.id, []),
        } for ev in events.get(ticket.id, [])]
        row["extended_attributes"] = formats.extended_attributes(
            ticket, [{"code": u.code, "name": u.name, "kind": u.kind} for u in path], timeline,
            photos.get(ticket.id, []))


# --- filing requests --------------------------------------------------------------------


def _coordinate(name: str, raw: str, limit: float, problems: list[str]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name} must be a number in WGS-84 degrees (got {raw[:40]!r})")
        return None
    if not math.isfinite(value) or not -limit <= value <= limit:
        problems.append(f"{name} must be between -{limit:g} and {limit:g}")
        return None
    return value


def _own_upload(user: User, media_url: str) -> Media | None:
    """An upload made through POST media with this key and not yet used, named by its URL."""
    prefix = url_for("media.serve", key="x")[:-1]
    path = urlsplit(media_url).path
    if not path.startswith(prefix) or len(path) > 300:
        return None
    return db.session.execute(
        sa.select(Media).where(Media.key == path[len(prefix):], Media.owner_id == user.id, Media.event_id.is_(None))
        .order_by(Media.id.desc()).limit(1)
    ).scalar_one_or_none()


def _flag(raw: str | None, name: str, problems: list[str]) -> bool:
    value = (raw or "").strip().lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    problems.append(f"{name} must be true or false")
    return False


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
    problems: list[str] = []
    lat_raw, lng_raw = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    lat = lng = None
    if not lat_raw or not lng_raw:
        problems.append("lat and long (WGS-84) are required: requests here are routed to the responsible unit "
                        "by their point, so address_string or address_id alone cannot be accepted")
    else:
        lat = _coordinate("lat", lat_raw, 90, problems)
        lng = _coordinate("long", lng_raw, 180, problems)
    description = (form.get("description") or "").strip()
    if not description:
        problems.append("description is required: a sentence saying what the problem is")
    elif len(description) > MAX_DESCRIPTION:
        problems.append(f"description may be at most {MAX_DESCRIPTION} characters")
    address = (form.get("address_string") or "").strip()
    if len(address) > 255:
        problems.append("address_string may be at most 255 characters")
    anonymous = _flag(form.get("attribute[anonymous]"), "attribute[anonymous]", problems)
    media_ids = []
    media_url = (form.get("media_url") or "").strip()
    if media_url:
        item = _own_upload(key.user, media_url)
        if item is None:
            problems.append("media_url must be a URL returned by POST media.json or media.xml with this api_key "
                            "and not used before (media elsewhere is not fetched)")
        else:
            media_ids.append(item.id)
    if problems:
        raise Open311Error(400, *problems)
    data = {"category": category.code, "description": description, "lat": lat, "lng": lng, "coord": "wgs84",
            "address": address, "media": media_ids, "anonymous": anonymous}
    return report(Actor.of_user(key.user), data, idempotency_key)


def upload_media(key: ApiKey, file) -> Media:
    from ..media.operations import upload

    if file is None:
        raise Open311Error(400, "file is required (multipart/form-data, one JPEG, PNG or WebP photo)")
    return upload(key.user, file.stream)


def media_document(item: Media) -> dict:
    return {"media_id": str(item.id), "media_url": _media_url(item)}
