"""The moderation queue: held reports (moderation.operations.queue; approved or hidden by
tickets.operations) and held topic opinions (topics.operations.moderate_opinion), in the
units the actor moderates."""
from __future__ import annotations

from flask import redirect, request, url_for

from ..errors import Invalid
from ..extensions import db
from ..moderation import operations as moderation
from ..tickets import operations as ticket_ops
from ..tickets.lifecycle import MODERATORS
from ..tickets.models import Ticket
from ..topics import operations as topic_ops
from ..topics import queries as topic_queries
from ..topics.models import Opinion
from ..units.models import Unit
from .web import actor, audited, bp, in_scope_or_404, page, render

ROLES = tuple(sorted(MODERATORS))


def _ticket_state(ticket: Ticket) -> dict:
    return {"status": ticket.status, "held": ticket.held, "hidden": ticket.hidden, "version": ticket.version}


def _opinion_state(opinion: Opinion) -> dict:
    return {"held": opinion.held, "hidden": opinion.hidden}


def _opinion_unit(opinion: Opinion) -> Unit | None:
    topic = topic_ops.get_topic(opinion.topic_id)
    return db.session.get(Unit, topic.unit_id)


@bp.get("/moderation")
@page("审核", order=25, roles=ROLES)
def moderation_queue():
    who = actor()
    ids = moderation.queue(who, limit=50, cursor=request.args.get("cursor") or None)
    tickets = [db.session.get(Ticket, i) for i in ids["items"]]
    opinions = topic_queries.held_opinions(who)
    return render("console/moderation.html", tickets=tickets, next_cursor=ids["next_cursor"], opinions=opinions,
                  done=request.args.get("done"))


def _reason() -> str:
    reason = request.form.get("reason", "").strip()
    if not reason:
        raise Invalid("请填写不予公开的理由", key="validation_error", errors={"fields": {"reason": ["必填"]}})
    return reason[:500]


@bp.post("/moderation/tickets/<int:ticket_id>/<any(approve, hide):action>")
def moderate_ticket(ticket_id: int, action: str):
    ticket = in_scope_or_404(db.session.get(Ticket, ticket_id), roles=ROLES)
    who = actor()
    with audited(f"ticket.{action}", f"ticket:{ticket.id}", lambda: _ticket_state(ticket)) as asked:
        if action == "approve":
            ticket_ops.approve(ticket, who, request.form.get("note", "").strip()[:500])
        else:
            asked["reason"] = reason = _reason()
            ticket_ops.hide(ticket, who, reason)
    return redirect(url_for("console.moderation_queue", done=action), 303)


@bp.post("/moderation/opinions/<int:opinion_id>/<any(approve, hide):action>")
def moderate_opinion(opinion_id: int, action: str):
    opinion = in_scope_or_404(db.session.get(Opinion, opinion_id), _opinion_unit, roles=ROLES)
    with audited(f"opinion.{action}", f"opinion:{opinion.id}", lambda: _opinion_state(opinion)) as asked:
        reason = ""
        if action == "hide":
            asked["reason"] = reason = _reason()
        topic_ops.moderate_opinion(opinion, actor(), approve=action == "approve", reason=reason)
    return redirect(url_for("console.moderation_queue", done=action), 303)
