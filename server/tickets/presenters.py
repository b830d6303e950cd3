"""Tickets and events as each viewer may see them.

The public sees no reporter identity and no internal note; staff in scope see a masked
phone on a ticket's own page (each view logged), never a name of an anonymous reporter, and
no phone in lists: a page of twenty tickets would show twenty people's numbers to someone
looking for one case (PIPL's minimum necessary); the reporter sees their own ticket whole.
Lists load what they show in a fixed number of queries (no per-row lookups).
"""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from flask import url_for

from .. import crypto
from ..auth.actor import Actor
from ..auth.models import ROLE_LABELS, Role, User
from ..extensions import db
from ..media import signing
from ..media.models import Media
from ..media.storage import url_path
from ..privacy import operations as privacy
from ..timeutil import isoformat
from ..units.geo import from_wgs84
from . import lifecycle as lc
from .models import Ticket, TicketEvent
from .permissions import is_staff_for, roles_for
from .queries import TicketView

ACTOR_LABELS = {lc.REPORTER: "反映人", lc.RESIDENT: "居民", lc.ASSIGNEE: "承办人", lc.SYSTEM: "系统",
                **{role.value: label for role, label in ROLE_LABELS.items()}}


def _media_out(media_id: int, key: str, thumb_key: str, base: str, restricted: bool = False) -> dict:
    """A photo as answers show it; `base` from media_base(). A restricted one (of a held
    report, of a staff-only note) under a signed address (media/signing.py)."""
    if restricted:
        return {"id": media_id, "url": base + url_path(key) + signing.query(key),
                "thumbnail_url": base + url_path(thumb_key) + signing.query(thumb_key)}
    return {"id": media_id, "url": base + url_path(key), "thumbnail_url": base + url_path(thumb_key)}


def media_base() -> str:
    """The address photos are served under, for this request (one url_for a page, not two a photo)."""
    return url_for("media.serve", key="-")[:-1]


def _users(ids) -> dict[int, sa.Row]:
    """Users by id: only what is shown of them (nickname, the phone for masking)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(
        sa.select(User.id, User.nickname, User.phone_enc).where(User.id.in_(ids)))}


def _reporter(ticket: TicketView, viewer, staff: bool) -> dict:
    if viewer is not None and ticket.reporter_id == viewer.id:
        return {"id": viewer.id, "display": viewer.nickname or "我",
                "phone_masked": crypto.mask_phone(crypto.decrypt(viewer.phone_enc))}
    if staff:
        phone = crypto.mask_phone(crypto.decrypt(ticket.reporter_phone_enc)) if ticket.reporter_id else None
        return {"display": "匿名群众" if ticket.anonymous else "群众", "phone_masked": phone}
    return {"display": "匿名群众" if ticket.anonymous else "群众"}


def present_many(tickets: list[TicketView], viewer, coord: str = "wgs84") -> list[dict]:
    """Tickets (as queries.py reads them) as the viewer may see them in a list: no
    reporter's phone but the viewer's own, so nothing to log."""
    answer = _Answer(viewer, coord, media_base() if any(t.report_media for t in tickets) else "")
    return [answer.ticket(t, False) for t in tickets]


def present(ticket: TicketView, viewer, coord: str = "wgs84") -> dict:
    """One ticket, its page: staff in scope see the reporter's masked phone, and the view
    leaves a row in the access log."""
    staff = is_staff_for(viewer, ticket)
    if staff:
        privacy.log_access(viewer, [ticket])
    out = _Answer(viewer, coord, media_base() if ticket.report_media else "").ticket(ticket, staff)
    out["responsibles"] = [{"name": r.name, "title": r.title} for r in ticket.unit.responsibles]
    return out


_STATUS_LABELS = {status.value: label for status, label in lc.STATUS_LABELS.items()}


class _Answer:
    """One answer's tickets as its viewer sees them. What the viewer may do depends on the
    ticket only through its unit, status, hold and whether the viewer reported it or was
    assigned it, so it is worked out once per such combination: a page of twenty tickets
    names a few, not twenty."""

    __slots__ = ("viewer", "coord", "base", "_actions")

    def __init__(self, viewer: Actor | None, coord: str, base: str):
        self.viewer, self.coord, self.base = viewer, coord, base
        self._actions: dict[tuple, tuple[str, ...]] = {}

    def ticket(self, ticket: TicketView, staff: bool) -> dict:
        """`staff`: the viewer is staff in scope and is shown the reporter's masked phone."""
        lat, lng = from_wgs84(ticket.lat, ticket.lng, self.coord)
        base = self.base
        return {
            "id": ticket.id,
            "status": ticket.status,
            "status_label": _STATUS_LABELS[ticket.status],
            "category": {"code": ticket.category.code, "name": ticket.category.name, "icon": ticket.category.icon},
            "description": ticket.description,
            "lat": round(lat, 7), "lng": round(lng, 7), "coord": self.coord,
            "address": ticket.address,
            "unit": {"id": ticket.unit.id, "code": ticket.unit.code, "name": ticket.unit.name},
            "triage": ticket.triage,
            "held": ticket.held,
            "reporter": _reporter(ticket, self.viewer, staff),
            "assignee": {"id": ticket.assignee_id, "display": ticket.assignee_nickname or "承办人"}
            if ticket.assignee_id else None,
            "priority": ticket.priority,
            "respond_by": ticket.respond_by,
            "resolve_by": ticket.resolve_by,
            "due_at": ticket.resolve_by,
            "responded_at": ticket.responded_at,
            "resolved_at": ticket.resolved_at,
            "overdue": ticket.overdue,
            "redo": ticket.redo_count > 0,
            "redo_count": ticket.redo_count,
            "return_reason": ticket.return_reason,
            "duplicate_of": ticket.duplicate_of_id,
            "media": [_media_out(m["id"], m["key"], m["thumb_key"], base, ticket.held)
                      for m in ticket.report_media or ()],
            "supporters": ticket.supporters,
            "rating": {"rating": ticket.rating, "label": lc.RATING_LABELS[ticket.rating],
                       "comment": ticket.rating_comment or "", "at": ticket.closed_at} if ticket.rating else None,
            "created_at": ticket.created_at,
            "version": ticket.version,
            "allowed_actions": self._allowed(ticket),
        }

    def _allowed(self, ticket: TicketView) -> list[str]:
        """What the viewer may do now, decided by everything roles_for and _actions read."""
        viewer = self.viewer
        if viewer is None:
            return []
        key = (ticket.unit.id, ticket.status, ticket.held, ticket.reporter_id == viewer.id,
               ticket.assignee_id == viewer.id)
        found = self._actions.get(key)
        if found is None:
            status = lc.Status(ticket.status)
            found = self._actions[key] = tuple(_actions(ticket, status, roles_for(viewer, ticket), viewer))
        return list(found)


def _actions(ticket: TicketView, status: lc.Status, roles: set[str], viewer: Actor) -> list[str]:
    """What the viewer may do now: the lifecycle's actions, plus "me too" on others' open reports."""
    actions = lc.allowed_actions(status, roles, ticket)
    if status in lc.OPEN and not ticket.held and ticket.reporter_id != viewer.id:
        actions.append("support")
    return actions


def present_events(ticket: Ticket, events: list[TicketEvent], viewer: Actor | None) -> list[dict]:
    staff = is_staff_for(viewer, ticket)
    ids = [e.id for e in events]
    media: dict[int, list[dict]] = defaultdict(list)
    if ids:
        base = media_base()
        shown_public = {e.id: e.public for e in events}
        for item in db.session.execute(sa.select(Media).where(Media.event_id.in_(ids)).order_by(Media.position)).scalars():
            media[item.event_id].append(_media_out(item.id, item.key, item.thumb_key, base,
                                                   ticket.held or not shown_public[item.event_id]))
    actors = _users([e.actor_id for e in events]) if staff else {}
    out = []
    for ev in events:
        actor = {"role": ev.actor_role, "display": ACTOR_LABELS.get(ev.actor_role, ev.actor_role)}
        staff_actor = ev.actor_role in {r.value for r in Role} or ev.actor_role == lc.ASSIGNEE
        if staff and staff_actor and ev.actor_id in actors:
            actor["display"] += f" {actors[ev.actor_id].nickname}"
        if viewer is not None and ev.actor_id == viewer.id:
            actor["display"] += "（我）"
        out.append({
            "id": ev.id, "action": ev.action,
            "from_status": lc.Status(ev.from_status).value if ev.from_status else None,
            "to_status": lc.Status(ev.to_status).value,
            "to_status_label": lc.STATUS_LABELS[lc.Status(ev.to_status)],
            "actor": actor, "note": ev.note, "public": ev.public,
            "data": ev.data if staff else {k: v for k, v in (ev.data or {}).items() if k in ("reason", "rating", "redo", "duplicate_of", "late")},
            "media": media.get(ev.id, []), "at": isoformat(ev.created_at),
        })
    return out
