"""Every change to a ticket: guard -> mutate -> append event -> flush (never commit).

Each operation checks the transition table (lifecycle.check) with the actor's roles for
this ticket, so no view or schema ever writes `status`. Concurrent changes are caught by
the ticket's version column: of two conflicting writers exactly one wins, the other gets
409 `conflict`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from ..auth.models import User
from .. import directory
from ..categories.models import Category
from ..directory import CategoryInfo, UnitInfo
from ..db_setup import insert_skipping_duplicates
from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from ..extensions import db
from ..media.models import Media
from ..timeutil import as_utc, utcnow
from ..units.geo import to_wgs84
from ..units.locator import get_locator
from ..units.models import Unit
from ..wechat import service as wechat
from . import lifecycle as lc
from . import notices
from ..privacy import operations as privacy
from .lifecycle import Status
from .models import IdempotencyKey, Ticket, TicketEvent, TicketRating, TicketSupport
from .permissions import can_read, roles_for, serves, staff_roles_in

log = logging.getLogger(__name__)

# Which of an actor's roles an event records, most specific first.
_ROLE_ORDER = [lc.SYSTEM, lc.REPORTER, lc.ASSIGNEE, lc.HEAD, lc.DEPUTY, lc.CADRE, lc.GRID, lc.ADMIN, lc.RESIDENT]


def _deadlines(category: Category | CategoryInfo, start: datetime) -> tuple[datetime, datetime]:
    respond_by = start + timedelta(hours=category.respond_hours)
    resolve = timedelta(hours=category.resolve_hours) if category.resolve_hours else timedelta(days=category.resolve_days)
    return respond_by, start + resolve


def _guard(ticket: Ticket, action: str, user: User | None, version: int | None = None,
           roles: set[str] | None = None) -> tuple[lc.Rule, str]:
    """The rule for this action and the role the actor acts in; 409 or 403 otherwise."""
    if version is not None and version != ticket.version:
        raise Conflict("内容已被他人修改，请刷新后重试", key="conflict")
    roles = roles if roles is not None else roles_for(user, ticket)
    try:
        rule = lc.check(action, ticket.status, roles)
    except lc.NotAllowed:
        raise Forbidden("没有权限进行此操作", key="forbidden") from None
    except lc.TransitionError:
        label = lc.STATUS_LABELS[Status(ticket.status)]
        raise Conflict(f"当前状态（{label}）不能进行此操作", key="invalid_transition") from None
    role = next(r for r in _ROLE_ORDER if r in roles & rule.roles)
    return rule, role


# History and ratings are only ever inserted (the models refuse updates), so they are
# written as they happen, by one INSERT each, not held for the unit of work's flush. The
# ticket's own change goes first: its versioned UPDATE takes the row, so of two concurrent
# writers the second waits, finds the version moved and gets 409 before writing anything.
_ADD_EVENT = TicketEvent.__table__.insert()
_ADD_RATING = TicketRating.__table__.insert()


def _insert(statement, **values) -> int:
    """Run one INSERT on the session's connection; the new row's id."""
    return db.session.connection().execute(statement, values).inserted_primary_key[0]


def _append(ticket: Ticket, action: str, from_status: Status | None, actor: User | None, role: str, *,
            note: str = "", public: bool = True, data: dict | None = None, media: list[Media] = ()) -> None:
    _flush()
    event_id = _insert(_ADD_EVENT, ticket_id=ticket.id, action=action, from_status=from_status,
                       to_status=ticket.status, actor_id=actor.id if actor else None, actor_role=role,
                       note=note or "", public=public, data=data or {}, created_at=utcnow())
    for position, item in enumerate(media):  # the photos point at the event
        item.event_id, item.position = event_id, position


def _take_media(user: User, ids: list[int]) -> list[Media]:
    """The user's own uploads, not yet attached to anything, in the order given."""
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise Invalid("照片重复", key="invalid_media")
    found = {m.id: m for m in db.session.execute(sa.select(Media).where(Media.id.in_(ids))).scalars()}
    for media_id in ids:
        item = found.get(media_id)
        if item is None or item.owner_id != user.id or item.event_id is not None:
            raise Invalid("照片无效或已被使用，请重新上传", key="invalid_media", errors={"media": media_id})
    return [found[i] for i in ids]


def _move(ticket: Ticket, status: Status) -> Status:
    """Set the new status; returns the old one."""
    old = Status(ticket.status)
    ticket.status = status
    return old


def _first_response(ticket: Ticket, now: datetime) -> None:
    if ticket.responded_at is None:
        ticket.responded_at = now


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("内容已被他人修改，请刷新后重试", key="conflict") from None


# --- reporting --------------------------------------------------------------------------


def route(category: CategoryInfo, lat: float, lng: float) -> tuple[UnitInfo, bool]:
    """The deepest unit containing the point whose kind handles the category.

    Falls back to the deepest containing unit, and outside every boundary to the root
    unit's triage queue (the second value is then True).
    """
    ids = get_locator().containing(lat, lng)
    units = directory.units(ids)
    chain = [units[i] for i in ids if i in units]
    if chain:
        for unit in chain:
            if category.handler_kind and unit.kind == category.handler_kind:
                return unit, False
        return chain[0], False
    root_id = db.session.execute(sa.select(Unit.id).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1)).scalar()
    root = directory.unit(root_id) if root_id is not None else None
    if root is None:
        raise DomainError("系统尚未配置治理单位", status=503, key="no_units")
    return root, True


def _check_text(user: User, text: str) -> bool:
    """msgSecCheck v2. Returns True when the report must be held for moderation.

    Risky text is refused; "review", or a check that could not run, holds the report.
    Skipped when WeChat is not configured or the user never came through WeChat (dev
    login, integrations): msgSecCheck only knows openids that used the mini-program.
    """
    if not wechat.is_configured() or not user.from_wechat:
        return False
    try:
        result = wechat.get_wechat().post(
            "wxa/msg_sec_check", {"version": 2, "openid": user.openid, "scene": 3, "content": text[:2500]}
        )
    except DomainError as err:
        log.warning("content check unavailable (%s): report held for review", err.key)
        return True
    suggest = (result.get("result") or {}).get("suggest", "pass")
    if suggest == "risky":
        raise Invalid("内容含有违规信息，请修改后再提交", key="content_risky")
    return suggest == "review"


def _fingerprint(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def report(user: User, data: dict, idempotency_key: str | None = None) -> tuple[Ticket, bool]:
    """群众出题: create a ticket, routed by its place. Returns (ticket, created).

    With an idempotency key, a retry with the same body returns the first ticket; the
    same key with another body is refused.
    """
    fp = _fingerprint(data)
    if idempotency_key:
        existing = _replay(user, idempotency_key, fp)
        if existing is not None:
            return existing, False
    privacy.require_consent(user)
    category = directory.active_category(data["category"])
    if category is None:
        raise Invalid("问题分类不存在", key="unknown_category", errors={"category": data["category"]})
    lat, lng = to_wgs84(data["lat"], data["lng"], data["coord"])
    # WeChat is asked before anything is written: no write transaction waits on the network.
    held = _check_text(user, data["description"])
    media = _take_media(user, data.get("media") or [])
    unit, triage = route(category, lat, lng)
    now = utcnow()
    respond_by, resolve_by = _deadlines(category, now)
    if idempotency_key and not _claim(user, idempotency_key, fp):
        # A retry with the same key holds it: its INSERT waited for that transaction to end.
        existing = _replay(user, idempotency_key, fp)
        if existing is None:
            raise Conflict("请求正在处理中，请稍后再试", key="conflict")
        return existing, False
    ticket = _new_ticket(category_id=category.id, unit_id=unit.id, reporter_id=user.id,
                         anonymous=data.get("anonymous", False), description=data["description"], lat=lat, lng=lng,
                         address=data.get("address") or "", status=Status.submitted, triage=triage, held=held,
                         respond_by=respond_by, resolve_by=resolve_by, created_at=now, updated_at=now,
                         report_media=[{"id": m.id, "key": m.key, "thumb_key": m.thumb_key} for m in media])
    _append(ticket, "report", None, user, lc.REPORTER, note="", data={"triage": triage, "held": held}, media=media)
    if idempotency_key:
        db.session.connection().execute(_KEY_FILED, {"b_user": user.id, "b_key": idempotency_key, "b_ticket": ticket.id})
    if not held:
        notices.reported(ticket)
    db.session.flush()
    return ticket, True


def _column_defaults(table: sa.Table) -> tuple[dict, set[str]]:
    """A table's columns with the value an INSERT gives them when none is named (their
    scalar default, else NULL), and the columns whose default is computed (to be named)."""
    values, computed = {}, set()
    for column in table.columns:
        if column.primary_key:
            continue
        if column.default is not None and not column.default.is_scalar:
            computed.add(column.key)
        else:
            values[column.key] = column.default.arg if column.default is not None else None
    return values, computed


# The model's attributes are named as its columns, so one dict serves the INSERT and the object.
_ADD_TICKET = Ticket.__table__.insert()
_TICKET_DEFAULTS, _TICKET_COMPUTED = _column_defaults(Ticket.__table__)


def _new_ticket(**given) -> Ticket:
    """A new ticket's row by one INSERT, then the same row handed to the session as a
    loaded Ticket: the unit of work's flush of a pending object cost a fifth of a report,
    and every column is known here, so nothing is read back."""
    if missing := _TICKET_COMPUTED - given.keys():
        raise TypeError(f"a new ticket needs {sorted(missing)}")
    values = {**_TICKET_DEFAULTS, **given}
    ticket = Ticket(id=_insert(_ADD_TICKET, **values), **values)
    make_transient_to_detached(ticket)  # as if loaded: no pending changes, no expired column
    db.session.add(ticket)
    return ticket


_keys = IdempotencyKey.__table__
_KEY_USED = sa.select(_keys.c.fingerprint, _keys.c.ticket_id).where(
    _keys.c.user_id == sa.bindparam("user_id"), _keys.c.key == sa.bindparam("key"))
_KEY_FILED = _keys.update().where(_keys.c.user_id == sa.bindparam("b_user"), _keys.c.key == sa.bindparam("b_key")).values(
    ticket_id=sa.bindparam("b_ticket"))


def _claim(user: User, key: str, fingerprint: str) -> bool:
    """Take the key for this request before its ticket is written; False when another
    request holds it. That request's INSERT holds the key's index entry until its
    transaction ends, so a concurrent retry waits here, then finds the key taken (and,
    reading committed rows, its ticket), where the ticket written first and a savepoint
    around it cost two more statements and a ticket undone."""
    claimed = db.session.connection().execute(insert_skipping_duplicates(_keys, "user_id", "key"), {
        "user_id": user.id, "key": key, "fingerprint": fingerprint, "ticket_id": None, "created_at": utcnow()})
    return claimed.rowcount == 1


def _replay(user: User, key: str, fingerprint: str) -> Ticket | None:
    row = db.session.connection().execute(_KEY_USED, {"user_id": user.id, "key": key}).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise Invalid("同一个 Idempotency-Key 对应了不同的内容", key="idempotency_key_reused")
    if row.ticket_id is None:
        raise Conflict("请求正在处理中，请稍后再试", key="conflict")
    return db.session.get(Ticket, row.ticket_id)


# --- actions ----------------------------------------------------------------------------


def accept(ticket: Ticket, user: User, note: str = "", version: int | None = None) -> Ticket:
    """受理: the unit responds to the report."""
    rule, role = _guard(ticket, "accept", user, version)
    old = _move(ticket, rule.to)
    _first_response(ticket, utcnow())
    _append(ticket, "accept", old, user, role, note=note)
    notices.accepted(ticket)
    _flush()
    return ticket


def return_(ticket: Ticket, user: User, reason: str, note: str = "", duplicate_of: int | None = None,
            version: int | None = None) -> Ticket:
    """退回: out of scope, a duplicate (linked, supporters merged), needs info, invalid, or not adopted."""
    rule, role = _guard(ticket, "return", user, version)
    if ticket.status == Status.deliberating and reason != "not_adopted":
        raise Invalid("议题退回的理由应为不予采纳（not_adopted）", key="invalid_reason")
    if ticket.status == Status.submitted and reason == "not_adopted":
        raise Invalid("待受理的问题不能以不予采纳退回", key="invalid_reason")
    if reason == "not_adopted" and not note.strip():
        raise Invalid("不予采纳须公开说明理由", key="reason_required")
    original = None
    if reason == "duplicate":
        original = db.session.get(Ticket, duplicate_of) if duplicate_of else None
        if original is None or original.id == ticket.id or original.duplicate_of_id is not None:
            raise Invalid("请指明重复的原问题", key="invalid_duplicate")
    old = _move(ticket, rule.to)
    now = utcnow()
    _first_response(ticket, now)
    ticket.return_reason = reason
    ticket.closed_at = now
    data = {"reason": reason}
    if original is not None:
        ticket.duplicate_of_id = original.id
        data["duplicate_of"] = original.id
        _merge_supporters(ticket, original)
    _append(ticket, "return", old, user, role, note=note, data=data)
    if original is not None:
        _append(original, "merge", Status(original.status), user, role, data={"duplicate": ticket.id},
                note="合并了重复反映的问题")
    notices.returned(ticket, note)
    _flush()
    return ticket


def _merge_supporters(duplicate: Ticket, original: Ticket) -> None:
    supporters = set(db.session.execute(
        sa.select(TicketSupport.user_id).where(TicketSupport.ticket_id == duplicate.id)).scalars())
    if duplicate.reporter_id:
        supporters.add(duplicate.reporter_id)
    already = set(db.session.execute(
        sa.select(TicketSupport.user_id).where(TicketSupport.ticket_id == original.id)).scalars())
    for user_id in supporters - already - {original.reporter_id}:
        db.session.add(TicketSupport(ticket_id=original.id, user_id=user_id))
    db.session.flush()
    original.supporters = db.session.execute(
        sa.select(sa.func.count()).select_from(TicketSupport).where(TicketSupport.ticket_id == original.id)
    ).scalar_one()


def transfer(ticket: Ticket, user: User, unit_id: int, reason: str, version: int | None = None) -> Ticket:
    """转办: to another unit, which receives it as a new report with fresh time limits."""
    rule, role = _guard(ticket, "transfer", user, version)
    target = db.session.get(Unit, unit_id)
    if target is None:
        raise Invalid("目标单位不存在", key="unit_not_found")
    if target.id == ticket.unit_id:
        raise Invalid("不能转办给本单位", key="invalid_transfer")
    old = _move(ticket, rule.to)
    now = utcnow()
    if old == Status.submitted:
        _first_response(ticket, now)
    from_unit = ticket.unit_id
    ticket.unit, ticket.triage, ticket.assignee_id, ticket.overdue = target, False, None, False
    ticket.respond_by, ticket.resolve_by = _deadlines(ticket.category, now)
    _append(ticket, "transfer", old, user, role, note=reason,
            data={"from_unit": from_unit, "to_unit": target.id})
    notices.reported(ticket)
    _flush()
    return ticket


def withdraw(ticket: Ticket, user: User, note: str = "", version: int | None = None) -> Ticket:
    rule, role = _guard(ticket, "withdraw", user, version)
    old = _move(ticket, rule.to)
    ticket.closed_at = utcnow()
    _append(ticket, "withdraw", old, user, role, note=note)
    _flush()
    return ticket


def propose(ticket: Ticket, user: User, note: str = "", version: int | None = None) -> Ticket:
    """代表议题: the matter goes to the deputies or the council of the unit."""
    rule, role = _guard(ticket, "propose", user, version)
    old = _move(ticket, rule.to)
    _append(ticket, "propose", old, user, role, note=note)
    _flush()
    return ticket


def assign(ticket: Ticket, user: User, assignee_id: int, unit_id: int | None = None, due_at: datetime | None = None,
           priority: str = "normal", note: str = "", version: int | None = None) -> Ticket:
    """任务单: a responsible unit and person, a deadline and a priority."""
    rule, role = _guard(ticket, "assign", user, version)
    unit = ticket.unit if unit_id is None else db.session.get(Unit, unit_id)
    if unit is None:
        raise Invalid("责任单位不存在", key="unit_not_found")
    if not staff_roles_in(user, unit):
        raise Forbidden("只能派给本单位及下级单位", key="unit_out_of_scope")
    assignee = db.session.get(User, assignee_id)
    if assignee is None or not serves(assignee, unit):
        raise Invalid("承办人须是责任单位的工作人员", key="invalid_assignee")
    now = utcnow()
    if due_at is not None:
        due_at = as_utc(due_at)
        if due_at <= now:
            raise Invalid("办结时限必须晚于现在", key="invalid_due_at")
    old = _move(ticket, rule.to)
    ticket.unit, ticket.assignee_id, ticket.priority = unit, assignee.id, priority
    if due_at is not None:
        ticket.resolve_by, ticket.overdue = due_at, False
    _append(ticket, "assign", old, user, role, note=note,
            data={"assignee": assignee.id, "unit": unit.id, "due_at": ticket.resolve_by.isoformat(), "priority": priority})
    notices.assigned(ticket, note)
    _flush()
    return ticket


def progress(ticket: Ticket, user: User, note: str, media: list[int] = (), public: bool = True,
             version: int | None = None) -> Ticket:
    rule, role = _guard(ticket, "progress", user, version)
    photos = _take_media(user, list(media))
    old = _move(ticket, rule.to)
    _append(ticket, "progress", old, user, role, note=note, public=public, media=photos)
    _flush()
    return ticket


def resolve(ticket: Ticket, user: User, note: str, media: list[int], version: int | None = None) -> Ticket:
    """答题单: the answer, with text and at least one photo; crosses the task off (销号)."""
    rule, role = _guard(ticket, "resolve", user, version)
    photos = _take_media(user, list(media))
    if not photos:
        raise Invalid("办结须上传至少一张现场照片", key="photo_required")
    if not note.strip():
        raise Invalid("请填写办理结果", key="note_required")
    old = _move(ticket, rule.to)
    now = utcnow()
    _first_response(ticket, now)
    ticket.resolved_at = now
    _append(ticket, "resolve", old, user, role, note=note, media=photos)
    notices.resolved(ticket, note)
    _flush()
    return ticket


def rate(ticket: Ticket, user: User, rating: str, comment: str = "", version: int | None = None) -> Ticket:
    """评题: the reporter's rating closes the ticket, or reopens it once when dissatisfied (重办).

    Other residents of the unit may rate a public answer too; theirs are counted apart and
    change nothing.
    """
    roles = roles_for(user, ticket)
    if lc.REPORTER not in roles:
        return _public_rating(ticket, user, rating, comment)
    rule, role = _guard(ticket, "rate", user, version, roles)
    new_status = lc.after_rating(rating, ticket.redo_count)
    old = _move(ticket, new_status)
    now = utcnow()
    rated_round = ticket.redo_count
    data = {"rating": rating}
    if new_status == Status.assigned:
        ticket.redo_count += 1
        ticket.resolved_at, ticket.overdue = None, False
        _, ticket.resolve_by = _deadlines(ticket.category, now)
        data["redo"] = True
        action = "redo"
    else:
        ticket.rating, ticket.rating_comment, ticket.closed_at = rating, comment, now
        action = "rate"
    _append(ticket, action, old, user, role, note=comment, data=data)
    _insert(_ADD_RATING, ticket_id=ticket.id, user_id=user.id, by_reporter=True, round=rated_round,
            rating=rating, comment=comment, created_at=now)
    if rating == "dissatisfied":
        notices.dissatisfied(ticket, comment)
    _flush()
    return ticket


def _public_rating(ticket: Ticket, user: User, rating: str, comment: str) -> Ticket:
    if ticket.status not in (Status.resolved, Status.closed) or ticket.return_reason:
        raise Conflict("问题办结后才能评价", key="invalid_transition")
    if ticket.held:
        raise Forbidden("没有权限进行此操作", key="forbidden")
    if staff_roles_in(user, ticket.unit) or ticket.assignee_id == user.id:
        raise Forbidden("工作人员不能评价本单位的答复", key="forbidden")
    lives_here = db.session.execute(
        sa.select(Ticket.id).where(Ticket.reporter_id == user.id, Ticket.unit_id.in_(
            sa.select(Unit.id).where(Unit.path.startswith(ticket.unit.path, autoescape=True)))).limit(1)
    ).first()
    if lives_here is None:
        raise Forbidden("只有本单位的居民可以评价", key="not_a_resident")
    try:
        with db.session.begin_nested():
            _insert(_ADD_RATING, ticket_id=ticket.id, user_id=user.id, by_reporter=False, round=ticket.redo_count,
                    rating=rating, comment=comment, created_at=utcnow())
    except IntegrityError:
        raise Conflict("您已经评价过了", key="already_rated") from None
    return ticket


def support(ticket: Ticket, user: User) -> int:
    """附议 (me too): counted once per user; the reporter's own does not count."""
    if ticket.status not in lc.OPEN or ticket.held:
        raise Conflict("该问题已不再接受附议", key="invalid_transition")
    if ticket.reporter_id == user.id:
        return ticket.supporters
    try:
        with db.session.begin_nested():
            db.session.add(TicketSupport(ticket_id=ticket.id, user_id=user.id))
    except IntegrityError:
        return ticket.supporters
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id)
                       .values(supporters=Ticket.supporters + 1), execution_options={"synchronize_session": False})
    db.session.refresh(ticket, ["supporters"])
    return ticket.supporters


# --- time limits (督办) -------------------------------------------------------------------


def sweep(now: datetime | None = None, close_after_days: int | None = None) -> dict:
    """Mark overdue tickets and escalate them to the unit above; close resolved tickets
    left unrated past the rating window (counted as unrated, never as satisfied)."""
    now = now or utcnow()
    days = close_after_days if close_after_days is not None else current_app.config.get("RATING_WINDOW_DAYS", 7)
    late_response = sa.and_(Ticket.status == Status.submitted, Ticket.respond_by < now)
    late_resolution = sa.and_(Ticket.status.in_([Status.accepted, Status.deliberating, Status.assigned,
                                                 Status.in_progress]), Ticket.resolve_by < now)
    overdue = db.session.execute(
        sa.select(Ticket).where(Ticket.overdue.is_(False), sa.or_(late_response, late_resolution)).order_by(Ticket.id)
    ).scalars().all()
    for ticket in overdue:
        ticket.overdue = True
        ticket.supervising_unit_id = ticket.unit.parent_id or ticket.unit_id
        late = "respond" if ticket.status == Status.submitted else "resolve"
        _append(ticket, "escalate", Status(ticket.status), None, lc.SYSTEM,
                note="已超过时限，转上级督办", data={"late": late, "supervising_unit": ticket.supervising_unit_id})
        notices.escalated(ticket)
    _remind_before_deadlines(now)
    erased = privacy.erase_expired(now)
    stale = db.session.execute(
        sa.select(Ticket).where(Ticket.status == Status.resolved, Ticket.resolved_at < now - timedelta(days=days))
    ).scalars().all()
    for ticket in stale:
        rule, role = _guard(ticket, "close", None, roles={lc.SYSTEM})
        old = _move(ticket, rule.to)
        ticket.closed_at = now
        _append(ticket, "close", old, None, role, note="评价期已过，未评价", data={"unrated": True})
    _flush()
    return {"escalated": len(overdue), "closed_unrated": len(stale), "personal_data_erased": erased}


def _remind_before_deadlines(now: datetime) -> None:
    """A reminder once per deadline, 2 hours or 1 day ahead by category (dedupe keys keep it once)."""
    soon = db.session.execute(sa.select(Ticket).where(
        Ticket.status.in_([Status.accepted, Status.assigned, Status.in_progress]), Ticket.overdue.is_(False),
        Ticket.resolve_by > now, Ticket.resolve_by <= now + timedelta(days=1))).scalars().all()
    for ticket in soon:
        if ticket.resolve_by - now <= notices.lead_time(ticket):
            notices.deadline_soon(ticket, now)


# A ticket to act on: its unit by the columns the permission checks and the notices read
# (the answer is read afterwards, with its responsible people from the directory); its
# category only if an action needs it. Built once, so its cache key is computed once.
_FOR_ACTION = sa.select(Ticket).where(Ticket.id == sa.bindparam("ticket_id")).options(
    lazyload(Ticket.category),
    joinedload(Ticket.unit).load_only(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.depth, Unit.path),
)


def get_ticket(ticket_id: int) -> Ticket:
    ticket = db.session.execute(_FOR_ACTION, {"ticket_id": ticket_id}).scalar()
    if ticket is None:
        raise NotFound("问题不存在", key="ticket_not_found")
    return ticket


ACTIONS = {
    "accept": accept,
    "return": return_,
    "transfer": transfer,
    "withdraw": withdraw,
    "propose": propose,
    "assign": assign,
    "progress": progress,
    "resolve": resolve,
    "rate": rate,
}


def act(ticket_id: int, action: str, user: User, payload: dict) -> Ticket:
    """Run one named action on a ticket (POST /tickets/{id}/{action})."""
    ticket = get_ticket(ticket_id)
    if not can_read(user, ticket):
        raise NotFound("问题不存在", key="ticket_not_found")
    return ACTIONS[action](ticket, user, **payload)
