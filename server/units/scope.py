"""Unit scope: what an actor's staff posts reach. Every staff read and write asks here.

A post covers its unit and every unit below it (materialised paths: a unit's path starts
with the path of each unit above it). Scope is decided on the server, from the actor's
posts, never from what a client sends.
"""
from __future__ import annotations

from typing import Iterable, Protocol

from ..errors import Forbidden


class _Unit(Protocol):
    path: str


def staff_roles_in(actor, unit: _Unit) -> set[str]:
    """The actor's staff roles that reach this unit."""
    if actor is None:
        return set()
    return {post.role.value for post in actor.posts if unit.path.startswith(post.unit.path)}


def serves(actor, unit: _Unit) -> bool:
    """The actor holds a post at this unit, above it, or below it (can take its tasks)."""
    return any(unit.path.startswith(p.unit.path) or p.unit.path.startswith(unit.path) for p in actor.posts)


def has_role(actor, roles: Iterable[str]) -> bool:
    """The actor holds one of these roles anywhere."""
    wanted = set(roles)
    return actor is not None and any(post.role.value in wanted for post in actor.posts)


def scope_paths(actor, roles: Iterable[str] | None = None) -> list[str]:
    """Path prefixes of the units the actor's posts (of these roles) cover, without nested duplicates."""
    wanted = set(roles) if roles is not None else None
    paths = sorted({post.unit.path for post in actor.posts if wanted is None or post.role.value in wanted}, key=len)
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def require_staff(actor, unit: _Unit, roles: Iterable[str] | None = None, *,
                  key: str = "unit_out_of_scope", detail: str = "该单位不在您的管辖范围内") -> set[str]:
    """The actor's roles (of these) at the unit, or 403 with `key`."""
    held = staff_roles_in(actor, unit)
    if roles is not None:
        held &= set(roles)
    if not held:
        raise Forbidden(detail, key=key)
    return held
