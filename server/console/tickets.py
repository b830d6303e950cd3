"""The ticket desk: tickets by scope, status and filters; a ticket's page with its timeline
and photos; and the staff actions, each through the ticket operations (as the API's)."""
from __future__ import annotations

from flask import redirect, request, url_for

from .. import directory
from ..errors import Invalid, NotFound
from ..extensions import db
from ..tickets import lifecycle as lc
from ..tickets import operations, queries
from ..tickets.models import Ticket
from ..tickets.presenters import present, present_events
from ..tickets.schemas import ACTION_SCHEMAS
from ..units import queries as unit_queries
from ..units.scope import staff_roles_in
from .dashboard import units_in_scope
from .web import actor, audited, beijing, bp, load_form, page, render, unit_in_scope, uploaded_photos

STAFF_ACTIONS = ("accept", "return", "assign", "transfer", "progress", "resolve")
ACTION_LABELS = {"accept": "受理", "return": "退回", "assign": "派单", "transfer": "转办", "progress": "进展",
                 "resolve": "办结", "propose": "提交议题", "withdraw": "撤回", "rate": "评价"}
RETURN_LABELS = {"out_of_scope": "不属于本单位职责", "duplicate": "重复反映", "needs_info": "信息不全",
                 "invalid": "无效反映", "not_adopted": "不予采纳"}
SCOPES = {"unit": "本单位及下级", "supervision": "督办", "mine": "我承办的"}
DONE = {a: f"已{label}" for a, label in ACTION_LABELS.items()}


def ticket_in_scope(ticket_id: int) -> Ticket:
    """The ticket, if the actor is staff of its unit (or above) or its assignee; else 404."""
    ticket = db.session.get(Ticket, ticket_id)
    who = actor()
    if ticket is None or not (staff_roles_in(who, ticket.unit) or ticket.assignee_id == who.id):
        raise NotFound("问题不存在，或不在您的管辖范围内", key="ticket_not_found")
    return ticket


def _state(ticket: Ticket) -> dict:
    return {"status": lc.Status(ticket.status).value, "unit_id": ticket.unit_id, "assignee_id": ticket.assignee_id,
            "priority": ticket.priority, "resolve_by": ticket.resolve_by, "overdue": ticket.overdue,
            "version": ticket.version}


@bp.get("/tickets")
@page("问题办理", order=20)
def ticket_desk():
    who = actor()
    args = request.args
    scope = args.get("scope", "unit") if args.get("scope", "unit") in SCOPES else "unit"
    status = args.get("status", "")
    if status and status not in {s.value for s in lc.Status}:
        status = ""
    category = args.get("category", "")
    unit_id = args.get("unit", type=int)
    if unit_id is not None:
        unit_in_scope(unit_id)
    overdue = True if args.get("overdue") == "1" else None
    try:
        result = queries.list_tickets(who, scope=scope, status=[status] if status else None, category=category or None,
                                      overdue=overdue, unit=unit_id, limit=30, cursor=args.get("cursor") or None)
    except Invalid:
        raise NotFound() from None
    filters = {"scope": scope, "status": status, "category": category, "unit": unit_id or "",
               "overdue": "1" if overdue else ""}
    template = "console/_ticket_table.html" if request.headers.get("HX-Target") == "ticket-table" \
        else "console/tickets.html"
    return render(template, items=result["items"], next_cursor=result["next_cursor"], filters=filters, scopes=SCOPES,
                  statuses=lc.STATUS_LABELS, categories=sorted(directory.categories().values(), key=lambda c: c.code),
                  units=units_in_scope())


@bp.get("/tickets/<int:ticket_id>")
def ticket_page(ticket_id: int):
    who = actor()
    ticket = ticket_in_scope(ticket_id)
    shown = present(queries.view(ticket.id), who)
    timeline = present_events(ticket, queries.events(ticket, who, limit=200)["items"], who)
    actions = [a for a in shown["allowed_actions"] if a in STAFF_ACTIONS]
    staff = unit_queries.staff_of(ticket.unit, who) if "assign" in actions and staff_roles_in(who, ticket.unit) else []
    return render("console/ticket.html", t=shown, timeline=timeline, actions=actions, labels=ACTION_LABELS,
                  return_labels=RETURN_LABELS, staff=staff, units=units_in_scope(levels=3),
                  done=DONE.get(request.args.get("done", "")))


def _payload(action: str) -> dict:
    form = request.form
    raw: dict = {k: v for k, v in form.items() if k != "csrf_token" and v.strip() != ""}
    if action == "assign" and raw.get("due_at"):
        raw["due_at"] = beijing(raw["due_at"])
    if action == "progress":
        raw["public"] = form.get("public") == "1"
    if action in ("progress", "resolve"):
        raw.pop("photos", None)
        raw["media"] = uploaded_photos()
    return load_form(ACTION_SCHEMAS[action], raw)


@bp.post("/tickets/<int:ticket_id>/<any(accept, return, assign, transfer, progress, resolve):action>")
def ticket_action(ticket_id: int, action: str):
    """One staff action, through tickets.operations.act (the API's path), audited."""
    who = actor()
    ticket = ticket_in_scope(ticket_id)
    payload = _payload(action)
    with audited(f"ticket.{action}", f"ticket:{ticket.id}", lambda: _state(ticket)) as asked:
        asked.update({k: v for k, v in payload.items() if k not in ("version",)})
        operations.act(ticket.id, action, who, payload)
    if request.headers.get("HX-Request") == "true":
        return "", 204, {"HX-Redirect": url_for("console.ticket_page", ticket_id=ticket.id, done=action)}
    return redirect(url_for("console.ticket_page", ticket_id=ticket.id, done=action), 303)
