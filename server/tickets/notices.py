"""Who hears of what happens to a ticket. Each function queues outbox rows in the
operation's transaction (server.notifications.outbox.notify); nothing here sends."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from .. import directory
from ..auth.models import Role, StaffPost, User
from ..directory import UnitInfo
from ..extensions import db
from ..notifications.outbox import notify_many
from ..timeutil import isoformat, utcnow
from ..units.models import UnitResponsible
from . import lifecycle as lc
from .models import Ticket


def _category(ticket: Ticket):
    """The ticket's category: the row when the ticket carries it, else from the directory."""
    return ticket.__dict__.get("category") or directory.categories()[ticket.category_id]


def _unit(ticket: Ticket):
    """The ticket's unit: the row when the ticket carries it (also one just assigned to it),
    else from the directory (a new report names its unit by id)."""
    return ticket.__dict__.get("unit") or directory.unit(ticket.unit_id)


def _payload(ticket: Ticket, **extra) -> dict:
    unit = _unit(ticket)
    return {"category": _category(ticket).name, "status": lc.STATUS_LABELS[lc.Status(ticket.status)],
            "unit": unit.name, "address": ticket.address or unit.name,
            "time": isoformat(utcnow()), "due": isoformat(ticket.resolve_by), **extra}


def _staff_of(unit_id: int, roles: set[Role]) -> list[int]:
    ids = set(db.session.execute(sa.select(StaffPost.user_id).where(
        StaffPost.unit_id == unit_id, StaffPost.role.in_(roles))).scalars())
    return sorted(ids)


def _send(user_ids, template: str, ticket: Ticket, title: str, body: str, key: str, known=(), **extra) -> None:
    """`known`: recipients already read with what their channel needs (outbox.notify_many)."""
    notify_many(dict.fromkeys(user_ids), template, title=title, body=body, ticket_id=ticket.id,
                data=_payload(ticket, **extra), dedupe_prefix=key, known=known)


_posts, _users = StaffPost.__table__, User.__table__
# The unit's responders, with what choosing their channel needs (they hold a post: staff).
_RESPONDERS = sa.select(
    _users.c.id, _users.c.openid, _users.c.wecom_userid, sa.true().label("staff"), _posts.c.role,
).join_from(_posts, _users, _users.c.id == _posts.c.user_id).where(
    _posts.c.unit_id == sa.bindparam("unit_id"),
    _posts.c.role.in_([Role.grid_worker, Role.cadre, Role.unit_head]))


def _responders(unit_id: int) -> list:
    """The grid workers and cadres of the unit, or its heads when it has none (one query),
    as outbox recipients."""
    # Through the session, which flushes first: a transfer's new unit is then the ticket's.
    posts = db.session.execute(_RESPONDERS, {"unit_id": unit_id}).all()
    first = [row for row in posts if row.role != Role.unit_head]
    return sorted({row.id: row for row in first or posts}.values(), key=lambda row: row.id)


def reported(ticket: Ticket) -> None:
    """A new report: the unit's responders and its named responsible people."""
    responders = _responders(ticket.unit_id)
    staff = [row.id for row in responders]
    unit = _unit(ticket)
    carried = isinstance(unit, UnitInfo) or (unit is not None and "responsibles" not in sa.inspect(unit).unloaded)
    if carried and unit.id == ticket.unit_id:
        responsible = [r.user_id for r in unit.responsibles if r.user_id is not None]
    else:
        responsible = db.session.execute(sa.select(UnitResponsible.user_id).where(
            UnitResponsible.unit_id == ticket.unit_id, UnitResponsible.user_id.is_not(None))).scalars().all()
    _send(staff + list(responsible), "new_report", ticket, f"新的群众反映：{_category(ticket).name}",
          ticket.description[:100], f"new:{ticket.id}:{ticket.unit_id}:{ticket.version}", known=responders,
          note=ticket.description)


def accepted(ticket: Ticket) -> None:
    _send([ticket.reporter_id], "ticket_accepted", ticket, "您的反映已受理",
          f"{_unit(ticket).name}已受理您反映的{_category(ticket).name}问题", f"accepted:{ticket.id}")


def returned(ticket: Ticket, note: str) -> None:
    _send([ticket.reporter_id], "ticket_returned", ticket, "您的反映已退回", note or "请查看退回原因",
          f"returned:{ticket.id}", note=note)


def assigned(ticket: Ticket, note: str) -> None:
    _send([ticket.assignee_id], "task_assigned", ticket, f"新的任务：{_category(ticket).name}",
          note or ticket.description[:100], f"assigned:{ticket.id}:{ticket.version}", note=note or ticket.description)


def resolved(ticket: Ticket, note: str) -> None:
    _send([ticket.reporter_id], "ticket_answered", ticket, "您的反映已办结，请评价", note[:200],
          f"resolved:{ticket.id}:{ticket.redo_count}", note=note)


def dissatisfied(ticket: Ticket, comment: str) -> None:
    heads = _staff_of(ticket.unit_id, {Role.unit_head})
    _send([ticket.assignee_id, *heads], "dissatisfied", ticket, f"群众不满意：{_category(ticket).name}",
          comment or "反映人对办理结果不满意", f"dissatisfied:{ticket.id}:{ticket.redo_count}",
          rating="不满意", note=comment or "不满意")


def escalated(ticket: Ticket) -> None:
    heads = _staff_of(ticket.supervising_unit_id, {Role.unit_head}) if ticket.supervising_unit_id else []
    _send(heads, "escalated", ticket, f"超期督办：{_unit(ticket).name}",
          f"{_category(ticket).name}问题已超过时限", f"escalated:{ticket.id}:{ticket.redo_count}")


def lead_time(ticket: Ticket) -> timedelta:
    """How long before the deadline the reminder goes: 2 hours for urgent categories
    (resolve within a day), 1 day for the rest."""
    category = _category(ticket)
    window = category.resolve_hours or category.resolve_days * 24
    return timedelta(hours=2) if window <= 24 else timedelta(days=1)


def deadline_soon(ticket: Ticket, now: datetime) -> None:
    if ticket.assignee_id:
        people, known = [ticket.assignee_id], []
    else:
        known = _responders(ticket.unit_id)
        people = [row.id for row in known]
    hours = max(int((ticket.resolve_by - now).total_seconds() // 3600), 0)
    _send(people, "deadline_soon", ticket, f"任务即将到期：{_category(ticket).name}", f"距办结时限还有约 {hours} 小时",
          f"due:{ticket.id}:{ticket.redo_count}:{int(ticket.resolve_by.timestamp())}", known=known,
          note=f"剩余约{hours}小时")
