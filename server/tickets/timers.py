"""The ticket timers, run by `flask tickets sweep` (every minute from the timers process or
its systemd timer), not by the notification worker: erasing personal data on time must not
depend on notifications running.

- 督办: a public ticket past its time limit is escalated to the unit above;
- a reminder before a deadline;
- a resolved ticket left unrated past the rating window closes as unrated (never satisfied);
- a closed ticket loses the link to its reporter after the retention period.

Each change is a named action of the transition table, with its event.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..timeutil import utcnow
from ..workflow import flush
from . import lifecycle as lc
from . import notices
from .lifecycle import Status
from .models import Ticket
from .operations import append, move, operation, step

_SYSTEM = {lc.SYSTEM}
ERASE_BATCH = 1000  # links erased per sweep at most; the rest on the next one


@operation
def escalate(ticket: Ticket) -> None:
    rule, role = step(ticket, "escalate", None, roles=_SYSTEM)
    old = move(ticket, rule)
    ticket.overdue = True
    ticket.supervising_unit_id = ticket.unit.parent_id or ticket.unit_id
    late = "respond" if ticket.status == Status.submitted else "resolve"
    append(ticket, "escalate", old, None, role, note="已超过时限，转上级督办",
           data={"late": late, "supervising_unit": ticket.supervising_unit_id})
    notices.escalated(ticket)


@operation
def close_unrated(ticket: Ticket, now: datetime) -> None:
    rule, role = step(ticket, "close", None, roles=_SYSTEM)
    old = move(ticket, rule)
    ticket.closed_at = now
    append(ticket, "close", old, None, role, note="评价期已过，未评价", data={"unrated": True})


@operation
def erase_reporter(ticket: Ticket, now: datetime) -> None:
    """PIPL retention: the ticket stays public, without its reporter."""
    rule, role = step(ticket, "erase", None, roles=_SYSTEM)
    old = move(ticket, rule)
    ticket.reporter_id, ticket.anonymous, ticket.personal_data_erased_at = None, True, now
    append(ticket, "erase", old, None, role, public=False)


def _public():
    return sa.and_(Ticket.held.is_(False), Ticket.hidden.is_(False))


def sweep(now: datetime | None = None, close_after_days: int | None = None) -> dict:
    """Run every timer once; the caller commits."""
    now = now or utcnow()
    days = close_after_days if close_after_days is not None else current_app.config.get("RATING_WINDOW_DAYS", 7)
    late_response = sa.and_(Ticket.status == Status.submitted, Ticket.respond_by < now)
    late_resolution = sa.and_(Ticket.status.in_([Status.accepted, Status.deliberating, Status.assigned,
                                                 Status.in_progress]), Ticket.resolve_by < now)
    overdue = db.session.execute(sa.select(Ticket).where(
        Ticket.overdue.is_(False), _public(), sa.or_(late_response, late_resolution)).order_by(Ticket.id)
    ).scalars().all()
    for ticket in overdue:
        escalate(ticket)
    _remind_before_deadlines(now)
    cutoff = now - timedelta(days=current_app.config["PERSONAL_DATA_RETENTION_DAYS"])
    expired = db.session.execute(sa.select(Ticket).where(
        Ticket.status.in_(list(lc.FINAL)), Ticket.closed_at < cutoff, Ticket.reporter_id.is_not(None)
    ).order_by(Ticket.id).limit(ERASE_BATCH)).scalars().all()
    for ticket in expired:
        erase_reporter(ticket, now)
    stale = db.session.execute(sa.select(Ticket).where(
        Ticket.status == Status.resolved, Ticket.resolved_at < now - timedelta(days=days)).order_by(Ticket.id)
    ).scalars().all()
    for ticket in stale:
        close_unrated(ticket, now)
    flush()
    return {"escalated": len(overdue), "closed_unrated": len(stale), "personal_data_erased": len(expired)}


def _remind_before_deadlines(now: datetime) -> None:
    """A reminder once per deadline, 2 hours or 1 day ahead by category (dedupe keys keep it once)."""
    soon = db.session.execute(sa.select(Ticket).where(
        Ticket.status.in_([Status.accepted, Status.assigned, Status.in_progress]), Ticket.overdue.is_(False),
        _public(), Ticket.resolve_by > now, Ticket.resolve_by <= now + timedelta(days=1))).scalars().all()
    for ticket in soon:
        if ticket.resolve_by - now <= notices.lead_time(ticket):
            notices.deadline_soon(ticket, now)
