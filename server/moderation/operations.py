"""The moderation queue: held reports in the moderator's units; approve or hide, each an event."""
from __future__ import annotations

import sqlalchemy as sa

from ..auth.models import User
from ..errors import Conflict, Forbidden
from ..extensions import db
from ..paging import decode_cursor, page
from ..tickets import lifecycle as lc
from ..tickets import notices
from ..tickets.models import Ticket, TicketEvent
from ..tickets.permissions import scope_paths, staff_roles_in
from ..timeutil import utcnow
from ..units.models import Unit


MODERATORS = frozenset({lc.GRID, lc.CADRE, lc.HEAD, lc.ADMIN})


def queue(user: User, limit: int = 20, cursor: str | None = None) -> dict:
    """A page of the held reports' ids, newest first (the view reads the tickets it shows)."""
    paths = scope_paths(user, roles=MODERATORS)
    if not paths:
        raise Forbidden("只有工作人员可以审核", key="not_staff")
    query = sa.select(Ticket.id).where(Ticket.held.is_(True), Ticket.hidden.is_(False), Ticket.unit_id.in_(
        sa.select(Unit.id).where(sa.or_(*[Unit.path.startswith(p, autoescape=True) for p in paths]))))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Ticket.id < after[0])
    ids = db.session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1)).scalars().all()
    return page(ids, limit, lambda ticket_id: [ticket_id])


def _moderate(ticket: Ticket, user: User, action: str, note: str) -> str:
    roles = staff_roles_in(user, ticket.unit) & MODERATORS
    if not roles:
        raise Forbidden("没有权限审核该问题", key="forbidden")
    if not ticket.held or ticket.hidden:
        raise Conflict("该问题不在审核队列中", key="not_held")
    role = next(r for r in (lc.HEAD, lc.ADMIN, lc.CADRE, lc.GRID) if r in roles)
    db.session.add(TicketEvent(ticket_id=ticket.id, action=action, from_status=ticket.status, to_status=ticket.status,
                               actor_id=user.id, actor_role=role, note=note, public=False, data={},
                               created_at=utcnow()))
    return role


def approve(ticket: Ticket, user: User, note: str = "") -> Ticket:
    """The report is fine: it becomes public and its unit hears of it as a new report."""
    _moderate(ticket, user, "approve", note)
    ticket.held = False
    db.session.flush()
    notices.reported(ticket)
    db.session.flush()
    return ticket


def hide(ticket: Ticket, user: User, reason: str) -> Ticket:
    """The report is never shown publicly; the reporter is told why."""
    _moderate(ticket, user, "hide", reason)
    ticket.hidden = True
    db.session.flush()
    notices.returned(ticket, f"未通过审核：{reason}")
    db.session.flush()
    return ticket
