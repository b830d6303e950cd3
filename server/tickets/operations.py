"""Every change to a ticket: guard -> change -> append event -> notices -> flush (never commit).

Each operation checks the transition table (lifecycle.MACHINE) with the actor's roles for
this ticket, so no view or schema ever writes `status`; the table's machine refuses any
write to a ticket's columns outside these operations (workflow.guard_columns). Concurrent
changes are caught by the ticket's version column: of two conflicting writers exactly one
wins, the other gets 409 `conflict`.

Reporting (routing, the content check, idempotency) is in reporting.py, the timers
(督办, closing unrated tickets, erasing expired links) in timers.py; both use the steps
below.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from ..auth.actor import Actor
from ..auth.models import User
from ..categories.models import Category
from ..db_setup import insert_skipping_duplicates
from ..directory import CategoryInfo
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..media import operations as media_ops
from ..media.models import Media
from ..timeutil import as_utc, utcnow
from ..units.models import Unit
from ..units.scope import serves, staff_roles_in
from ..workflow import append_event, flush
from . import lifecycle as lc
from . import notices
from .lifecycle import MACHINE, Status
from .models import Ticket, TicketEvent, TicketRating, TicketSupport
from .permissions import can_read, roles_for

operation = MACHINE.operation
MAX_DEADLINE = timedelta(days=366)  # a task's deadline: in the future, within a year
MACHINE.guard_columns(Ticket)


def deadlines(category: Category | CategoryInfo, start: datetime) -> tuple[datetime, datetime]:
    respond_by = start + timedelta(hours=category.respond_hours)
    resolve = timedelta(hours=category.resolve_hours) if category.resolve_hours else timedelta(days=category.resolve_days)
    return respond_by, start + resolve


def step(ticket: Ticket, action: str, actor: Actor | None, version: int | None = None,
         roles: set[str] | None = None) -> tuple[lc.Rule, str]:
    """The rule for this action and the role the actor acts in; 409 or 403 otherwise."""
    return MACHINE.step(ticket, action, roles if roles is not None else roles_for(actor, ticket), version=version)


def append(ticket: Ticket, action: str, from_status: Status | None, actor: Actor | None, role: str, *,
           note: str = "", public: bool = True, data: dict | None = None, media: Sequence[Media] = ()) -> None:
    """The ticket's history row (workflow.append_event); the photos point at it."""
    event_id = append_event(TicketEvent, "ticket_id", ticket, action, from_status, actor, role,
                            note=note, public=public, data=data)
    media_ops.attach(media, f"ticket_event:{event_id}", event_id)




def move(ticket: Ticket, rule: lc.Rule, to: Status | None = None) -> Status:
    """Set the state the rule leads to (or `to`, one the rule may reach); returns the old one."""
    old = Status(ticket.status)
    new = to if rule.to is None else rule.to
    if rule.to is None and new not in rule.may_reach:
        raise ValueError(f"{new} is not reachable by this rule")
    if new != lc.SAME:
        ticket.status = Status(new)
    return old


def _first_response(ticket: Ticket, now: datetime) -> None:
    if ticket.responded_at is None:
        ticket.responded_at = now


# --- actions ----------------------------------------------------------------------------


@operation
def accept(ticket: Ticket, actor: Actor, note: str = "", version: int | None = None) -> Ticket:
    """受理: the unit responds to the report."""
    rule, role = step(ticket, "accept", actor, version)
    old = move(ticket, rule)
    _first_response(ticket, utcnow())
    append(ticket, "accept", old, actor, role, note=note)
    notices.accepted(ticket)
    flush()
    return ticket


@operation
def return_(ticket: Ticket, actor: Actor, reason: str, note: str = "", duplicate_of: int | None = None,
            version: int | None = None) -> Ticket:
    """退回: out of scope, a duplicate (linked, supporters merged), needs info, invalid, or not adopted."""
    rule, role = step(ticket, "return", actor, version)
    if ticket.status == Status.deliberating and reason != "not_adopted":
        raise Invalid("议题退回的理由应为不予采纳（not_adopted）", key="invalid_reason")
    if ticket.status == Status.submitted and reason == "not_adopted":
        raise Invalid("待受理的问题不能以不予采纳退回", key="invalid_reason")
    if reason == "not_adopted" and not note.strip():
        raise Invalid("不予采纳须公开说明理由", key="reason_required")
    original = None
    if reason == "duplicate":
        original = db.session.get(Ticket, duplicate_of) if duplicate_of else None
        if (original is None or original.id == ticket.id or original.duplicate_of_id is not None
                or original.held or original.hidden or original.status == Status.withdrawn):
            raise Invalid("请指明重复的原问题（须是公开的反映）", key="invalid_duplicate")
    old = move(ticket, rule)
    now = utcnow()
    _first_response(ticket, now)
    ticket.return_reason = reason
    ticket.closed_at = now
    data: dict[str, object] = {"reason": reason}
    if original is not None:
        ticket.duplicate_of_id = original.id
        data["duplicate_of"] = original.id
        _merge_supporters(ticket, original)
    append(ticket, "return", old, actor, role, note=note, data=data)
    if original is not None:
        append(original, "merge", Status(original.status), actor, role, data={"duplicate": ticket.id},
                note="合并了重复反映的问题")
    notices.returned(ticket, note)
    flush()
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


@operation
def transfer(ticket: Ticket, actor: Actor, unit_id: int, reason: str, version: int | None = None) -> Ticket:
    """转办: to another unit, which receives it as a new report with fresh time limits."""
    rule, role = step(ticket, "transfer", actor, version)
    target = db.session.get(Unit, unit_id)
    if target is None:
        raise Invalid("目标单位不存在", key="unit_not_found")
    if target.id == ticket.unit_id:
        raise Invalid("不能转办给本单位", key="invalid_transfer")
    old = move(ticket, rule)
    now = utcnow()
    if old == Status.submitted:
        _first_response(ticket, now)
    from_unit = ticket.unit_id
    ticket.unit, ticket.triage, ticket.assignee_id, ticket.overdue = target, False, None, False
    ticket.respond_by, ticket.resolve_by = deadlines(ticket.category, now)
    append(ticket, "transfer", old, actor, role, note=reason,
            data={"from_unit": from_unit, "to_unit": target.id})
    notices.reported(ticket)
    flush()
    return ticket


@operation
def withdraw(ticket: Ticket, actor: Actor, note: str = "", version: int | None = None) -> Ticket:
    rule, role = step(ticket, "withdraw", actor, version)
    old = move(ticket, rule)
    ticket.closed_at = utcnow()
    append(ticket, "withdraw", old, actor, role, note=note)
    flush()
    return ticket


@operation
def propose(ticket: Ticket, actor: Actor, note: str = "", version: int | None = None) -> Ticket:
    """代表议题: the matter goes to the deputies or the council of the unit."""
    rule, role = step(ticket, "propose", actor, version)
    old = move(ticket, rule)
    append(ticket, "propose", old, actor, role, note=note)
    MACHINE.publish("propose", ticket, actor, note=note)  # the topics domain opens a topic for it
    flush()
    return ticket


@operation
def assign(ticket: Ticket, actor: Actor, assignee_id: int, unit_id: int | None = None, due_at: datetime | None = None,
           priority: str = "normal", note: str = "", version: int | None = None) -> Ticket:
    """任务单: a responsible unit and person, a deadline and a priority."""
    rule, role = step(ticket, "assign", actor, version)
    unit = ticket.unit if unit_id is None else db.session.get(Unit, unit_id)
    if unit is None:
        raise Invalid("责任单位不存在", key="unit_not_found")
    if not staff_roles_in(actor, unit):
        raise Forbidden("只能派给本单位及下级单位", key="unit_out_of_scope")
    assignee = db.session.get(User, assignee_id)
    if assignee is None or not serves(assignee, unit):
        raise Invalid("承办人须是责任单位的工作人员", key="invalid_assignee")
    now = utcnow()
    if due_at is not None:
        try:
            due_at = as_utc(due_at)
        except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar
            raise Invalid("办结时限应在一年之内", key="invalid_due_at") from None
        if due_at <= now:
            raise Invalid("办结时限必须晚于现在", key="invalid_due_at")
        if due_at > now + MAX_DEADLINE:
            raise Invalid("办结时限应在一年之内", key="invalid_due_at")
    old = move(ticket, rule)
    ticket.unit, ticket.assignee_id, ticket.priority = unit, assignee.id, priority
    if due_at is not None:
        ticket.resolve_by, ticket.overdue = due_at, False
    append(ticket, "assign", old, actor, role, note=note,
            data={"assignee": assignee.id, "unit": unit.id, "due_at": ticket.resolve_by.isoformat(), "priority": priority})
    notices.assigned(ticket, note)
    flush()
    return ticket


@operation
def progress(ticket: Ticket, actor: Actor, note: str, media: Sequence[int] = (), public: bool = True,
             version: int | None = None) -> Ticket:
    rule, role = step(ticket, "progress", actor, version)
    photos = media_ops.take(actor, media)
    old = move(ticket, rule)
    append(ticket, "progress", old, actor, role, note=note, public=public, media=photos)
    flush()
    return ticket


@operation
def resolve(ticket: Ticket, actor: Actor, note: str, media: list[int], version: int | None = None) -> Ticket:
    """答题单: the answer, with text and at least one photo; crosses the task off (销号)."""
    rule, role = step(ticket, "resolve", actor, version)
    photos = media_ops.take(actor, media)
    if not photos:
        raise Invalid("办结须上传至少一张现场照片", key="photo_required")
    if not note.strip():
        raise Invalid("请填写办理结果", key="note_required")
    old = move(ticket, rule)
    now = utcnow()
    _first_response(ticket, now)
    ticket.resolved_at = now
    append(ticket, "resolve", old, actor, role, note=note, media=photos)
    notices.resolved(ticket, note)
    flush()
    return ticket


@operation
def rate(ticket: Ticket, actor: Actor, rating: str, comment: str = "", version: int | None = None) -> Ticket:
    """评题: the reporter's rating closes the ticket, or reopens it once when dissatisfied (重办).

    Other residents of the unit may rate a public answer too; theirs are counted apart and
    change nothing.
    """
    roles = roles_for(actor, ticket)
    if lc.REPORTER not in roles:
        return _public_rating(ticket, actor, rating, comment)
    rule, role = step(ticket, "rate", actor, version, roles)
    new_status = lc.after_rating(rating, ticket.redo_count)
    old = move(ticket, rule, new_status)
    now = utcnow()
    rated_round = ticket.redo_count
    data: dict[str, object] = {"rating": rating}
    if new_status == Status.assigned:
        ticket.redo_count += 1
        ticket.resolved_at, ticket.overdue = None, False
        _, ticket.resolve_by = deadlines(ticket.category, now)
        data["redo"] = True
        action = "redo"
    else:
        ticket.rating, ticket.rating_comment, ticket.closed_at = rating, comment, now
        action = "rate"
    append(ticket, action, old, actor, role, note=comment, data=data)
    _add_rating(ticket_id=ticket.id, user_id=actor.id, by_reporter=True, round=rated_round,
                rating=rating, comment=comment, created_at=now)
    if rating == "dissatisfied":
        notices.dissatisfied(ticket, comment)
    flush()
    return ticket


def _add_rating(**values) -> None:
    """Ratings are only ever inserted (the table is append-only): one INSERT."""
    db.session.connection().execute(TicketRating.__table__.insert(), values)


def _public_rating(ticket: Ticket, actor: Actor, rating: str, comment: str) -> Ticket:
    if ticket.status not in (Status.resolved, Status.closed) or ticket.return_reason:
        raise Conflict("问题办结后才能评价", key="invalid_transition")
    if ticket.held:
        raise Forbidden("没有权限进行此操作", key="forbidden")
    if staff_roles_in(actor, ticket.unit) or ticket.assignee_id == actor.id:
        raise Forbidden("工作人员不能评价本单位的答复", key="forbidden")
    lives_here = db.session.execute(
        sa.select(Ticket.id).where(Ticket.reporter_id == actor.id, Ticket.unit_id.in_(
            sa.select(Unit.id).where(Unit.path.startswith(ticket.unit.path, autoescape=True)))).limit(1)
    ).first()
    if lives_here is None:
        raise Forbidden("只有本单位的居民可以评价", key="not_a_resident")
    added = db.session.connection().execute(
        insert_skipping_duplicates(TicketRating.__table__, "ticket_id", "user_id", "round"),
        {"ticket_id": ticket.id, "user_id": actor.id, "by_reporter": False, "round": ticket.redo_count,
         "rating": rating, "comment": comment, "created_at": utcnow()})
    if added.rowcount != 1:
        raise Conflict("您已经评价过了", key="already_rated")
    return ticket


@operation
def support(ticket: Ticket, actor: Actor) -> int:
    """附议 (me too): counted once per user; the reporter's own does not count."""
    if ticket.status not in lc.OPEN or ticket.held:
        raise Conflict("该问题已不再接受附议", key="invalid_transition")
    if ticket.reporter_id == actor.id:
        return ticket.supporters
    # No savepoint: a deadlock between two supports ends the whole transaction on MySQL,
    # and rolling back to a savepoint that went with it fails (1305).
    added = db.session.connection().execute(insert_skipping_duplicates(TicketSupport.__table__, "ticket_id", "user_id"),
                                            {"ticket_id": ticket.id, "user_id": actor.id, "created_at": utcnow()})
    if added.rowcount == 1:
        db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(supporters=Ticket.supporters + 1),
                           execution_options={"synchronize_session": False})
    db.session.refresh(ticket, ["supporters"])
    return ticket.supporters


@operation
def decline(ticket: Ticket, decision: str) -> Ticket:
    """The topic the ticket went to was not adopted: the ticket is returned with the
    decision as its public reason (by the system, on the topic's decision)."""
    rule, role = step(ticket, "decline", None, roles={lc.SYSTEM})
    old = move(ticket, rule)
    now = utcnow()
    _first_response(ticket, now)
    ticket.return_reason, ticket.closed_at = "not_adopted", now
    append(ticket, "decline", old, None, role, note=decision, data={"reason": "not_adopted"})
    notices.returned(ticket, decision)
    flush()
    return ticket


# --- moderation -------------------------------------------------------------------------


@operation
def approve(ticket: Ticket, actor: Actor, note: str = "", version: int | None = None) -> Ticket:
    """The held report is fine: it becomes public, its time limits start now (its unit
    hears of it only now), and the unit is told as of a new report."""
    rule, role = step(ticket, "approve", actor, version, staff_roles_in(actor, ticket.unit))
    old = move(ticket, rule)
    ticket.held = False
    ticket.respond_by, ticket.resolve_by = deadlines(ticket.category, utcnow())
    append(ticket, "approve", old, actor, role, note=note, public=False)
    notices.reported(ticket)
    flush()
    return ticket


@operation
def hide(ticket: Ticket, actor: Actor, reason: str, version: int | None = None) -> Ticket:
    """The held report is never shown publicly: returned as invalid, out of every count
    and every timer; the reporter is told why."""
    rule, role = step(ticket, "hide", actor, version, staff_roles_in(actor, ticket.unit))
    old = move(ticket, rule)
    ticket.hidden, ticket.return_reason, ticket.closed_at = True, "invalid", utcnow()
    append(ticket, "hide", old, actor, role, note=reason, public=False)
    notices.returned(ticket, f"未通过审核：{reason}")
    flush()
    return ticket


# --- the reporter's account ----------------------------------------------------------------


@operation
def anonymise_reports(user_id: int) -> int:
    """A deleted account's reports stay public, anonymised: each one an event (by the
    system; the person is gone). Returns how many."""
    tickets = db.session.execute(sa.select(Ticket).where(Ticket.reporter_id == user_id)).scalars().all()
    for ticket in tickets:
        rule, role = step(ticket, "anonymise", None, roles={lc.SYSTEM})
        old = move(ticket, rule)
        ticket.anonymous = True
        append(ticket, "anonymise", old, None, role, public=False)
    flush()
    return len(tickets)


@operation
def recount_supporters(ticket_ids: list[int]) -> None:
    """The "me too" counts again from their rows (after an account's went with it)."""
    for ticket_id in ticket_ids:
        count = db.session.execute(sa.select(sa.func.count()).select_from(TicketSupport)
                                   .where(TicketSupport.ticket_id == ticket_id)).scalar_one()
        db.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(supporters=count),
                           execution_options={"synchronize_session": False})


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


def act(ticket_id: int, action: str, actor: Actor, payload: dict) -> Ticket:
    """Run one named action on a ticket (POST /tickets/{id}/{action})."""
    ticket = get_ticket(ticket_id)
    if not can_read(actor, ticket):
        raise NotFound("问题不存在", key="ticket_not_found")
    return ACTIONS[action](ticket, actor, **payload)
