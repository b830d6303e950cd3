"""Who the actor is to a ticket: their roles for it (unit scope from units.scope, plus
reporter and assignee), and whether they may read it."""
from __future__ import annotations

from ..units.scope import staff_roles_in
from . import lifecycle as lc
from .models import Ticket


def roles_for(actor, ticket: Ticket) -> set[str]:
    if actor is None:
        return set()
    roles = {lc.RESIDENT} | staff_roles_in(actor, ticket.unit)
    if ticket.reporter_id == actor.id:
        roles.add(lc.REPORTER)
    if ticket.assignee_id == actor.id:
        roles.add(lc.ASSIGNEE)
    return roles


def is_staff_for(actor, ticket) -> bool:
    return bool(staff_roles_in(actor, ticket.unit))


def can_read(actor, ticket) -> bool:
    """Held and hidden tickets are visible to their reporter and to staff in scope only."""
    if not ticket.held and not ticket.hidden:
        return True
    return actor is not None and (ticket.reporter_id == actor.id or is_staff_for(actor, ticket))
