"""群众出题: a resident's report becomes a ticket, routed by its place to the unit whose
boundary holds it and whose level handles the category; its text checked by WeChat's
content check before anything is written; a retry with the same Idempotency-Key gives the
first ticket."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from .. import directory, idempotency
from ..auth.actor import Actor
from ..directory import CategoryInfo, UnitInfo
from ..errors import Conflict, DomainError, Invalid
from ..extensions import db
from ..media import operations as media_ops
from ..privacy import consent
from ..timeutil import utcnow
from ..units.geo import to_wgs84
from ..units.locator import get_locator
from ..units.models import Unit
from ..wechat import service as wechat
from . import lifecycle as lc
from . import notices
from .lifecycle import Status
from .models import Ticket
from .operations import append, deadlines, operation

log = logging.getLogger(__name__)

SCOPE = "tickets.report"  # the idempotency keys' scope


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


def check_text(actor: Actor, text: str) -> bool:
    """msgSecCheck v2. Returns True when the report must be held for moderation.

    Risky text is refused; "review", or a check that could not run, holds the report.
    Skipped when WeChat is not configured, the actor never came through WeChat (dev
    login, integrations: msgSecCheck only knows openids that used the mini-program), or
    there is no text.
    """
    if not text or not wechat.is_configured() or not actor.from_wechat:
        return False
    try:
        result = wechat.get_wechat().post(
            "wxa/msg_sec_check", {"version": 2, "openid": actor.openid, "scene": 3, "content": text[:2500]}
        )
    except DomainError as err:
        log.warning("content check unavailable (%s): report held for review", err.key)
        return True
    suggest = (result.get("result") or {}).get("suggest", "pass")
    if suggest == "risky":
        raise Invalid("内容含有违规信息，请修改后再提交", key="content_risky")
    return suggest == "review"


def _replay(actor: Actor, key: str, fingerprint: str) -> Ticket | None:
    ticket_id = idempotency.replay(actor.id, SCOPE, key, fingerprint)
    return db.session.get(Ticket, ticket_id) if ticket_id is not None else None


@operation
def report(actor: Actor, data: dict, idempotency_key: str | None = None) -> tuple[Ticket, bool]:
    """Create a ticket, routed by its place. Returns (ticket, created).

    With an idempotency key, a retry with the same body returns the first ticket; the
    same key with another body is refused.
    """
    fingerprint = idempotency.fingerprint(data)
    if idempotency_key:
        existing = _replay(actor, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False
    consent.require_consent(actor)
    category = directory.active_category(data["category"])
    if category is None:
        raise Invalid("问题分类不存在", key="unknown_category", errors={"category": data["category"]})
    description = data.get("description") or ""
    if not description.strip() and not data.get("media"):
        raise Invalid("请写一句话说明问题，或拍一张照片", key="description_required")
    lat, lng = to_wgs84(data["lat"], data["lng"], data["coord"])
    # WeChat is asked before anything is written: no write transaction waits on the network.
    held = check_text(actor, description)
    media = media_ops.take(actor, data.get("media") or [])
    unit, triage = route(category, lat, lng)
    now = utcnow()
    respond_by, resolve_by = deadlines(category, now)
    if idempotency_key and not idempotency.claim(actor.id, SCOPE, idempotency_key, fingerprint):
        # A retry with the same key holds it: its INSERT waited for that transaction to end.
        existing = _replay(actor, idempotency_key, fingerprint)
        if existing is None:
            raise Conflict("请求正在处理中，请稍后再试", key="conflict")
        return existing, False
    ticket = Ticket(category_id=category.id, unit_id=unit.id, reporter_id=actor.id,
                    anonymous=data.get("anonymous", False), description=description, lat=lat, lng=lng,
                    address=data.get("address") or "", status=Status.submitted, triage=triage, held=held,
                    respond_by=respond_by, resolve_by=resolve_by, created_at=now, updated_at=now,
                    report_media=[{"id": m.id, "key": m.key, "thumb_key": m.thumb_key} for m in media])
    db.session.add(ticket)
    append(ticket, "report", None, actor, lc.REPORTER, data={"triage": triage, "held": held}, media=media)
    if idempotency_key:
        idempotency.record(actor.id, SCOPE, idempotency_key, ticket.id)
    if not held:
        notices.reported(ticket)
    db.session.flush()
    return ticket, True
