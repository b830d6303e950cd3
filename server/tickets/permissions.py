"""Who the current user is to a ticket: role x unit scope, decided on the server."""
from __future__ import annotations

from ..auth.models import User
from ..units.models import Unit
from . import lifecycle as lc
from .models import Ticket


def staff_roles_in(user: User | None, unit: Unit) -> set[str]:
    """The user's staff roles that reach this unit (a post covers its unit and every unit below)."""
    if user is None:
        return set()
    return {post.role.value for post in user.posts if unit.path.startswith(post.unit.path)}


def serves(user: User, unit: Unit) -> bool:
    """The user holds a post at this unit, above it, or below it (can take its tasks)."""
    return any(unit.path.startswith(p.unit.path) or p.unit.path.startswith(unit.path) for p in user.posts)


def roles_for(user: User | None, ticket: Ticket) -> set[str]:
    if user is None:
        return set()
    roles = {lc.RESIDENT} | staff_roles_in(user, ticket.unit)
    if ticket.reporter_id == user.id:
        roles.add(lc.REPORTER)
    if ticket.assignee_id == user.id:
        roles.add(lc.ASSIGNEE)
    return roles


def is_staff_for(user: User | None, ticket: Ticket) -> bool:
    return bool(staff_roles_in(user, ticket.unit))


def can_read(user: User | None, ticket: Ticket) -> bool:
    """Held tickets are visible to their reporter and to staff in scope only."""
    if not ticket.held:
        return True
    return user is not None and (ticket.reporter_id == user.id or is_staff_for(user, ticket))


def scope_paths(user: User, roles: frozenset[str] | None = None) -> list[str]:
    """Path prefixes of the units the user's posts (of these roles) cover, without nested duplicates."""
    paths = sorted({post.unit.path for post in user.posts if roles is None or post.role.value in roles}, key=len)
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept
