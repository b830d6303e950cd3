"""Tickets: thin views, one operation or query each."""
from flask import jsonify, request
from flask_smorest import Blueprint

from ..auth import sessions
from ..idempotency import check_key
from ..ops.ratelimit import rate_limit
from ..replica import replica_reads
from . import operations, queries, reporting
from .presenters import present, present_events, present_many
from .schemas import (
    ACTION_SCHEMAS,
    DetailArgs,
    EventArgs,
    EventPage,
    ListArgs,
    MapArgs,
    NearbyArgs,
    SupportOut,
    TicketCreateSchema,
    TicketOut,
    TicketPage,
)

blp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets", description="问题：反映、受理、派单、答复、评价")
BEARER = [{"bearerAuth": []}]


def _answer(payload: dict, status: int = 200):
    """The presenter's dict as the JSON answer, as it is. presenters.py fills exactly the
    documented fields (TicketOut, TicketPage), so a schema dump would only copy it field
    by field again: a tenth of a staff list's time. The schemas stay on the views for the
    OpenAPI document."""
    return jsonify(payload), status


@blp.post("")
@rate_limit("RATELIMIT_REPORT", key=sessions.user_or_ip)
@sessions.login_required
@blp.arguments(TicketCreateSchema())
@blp.response(201, TicketOut)
@blp.alt_response(200, schema=TicketOut, description="A retry with the same Idempotency-Key and body")
@blp.doc(security=BEARER, parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
def create_ticket(body):
    """群众出题: report a problem; routed to the unit responsible for the place."""
    user = sessions.viewer()
    ticket, created = reporting.report(user, body, check_key(request.headers.get("Idempotency-Key")))
    shown = queries.view_of_report(ticket) if created else queries.view(ticket.id)
    return _answer(present(shown, user, body["coord"]), 201 if created else 200)


@blp.get("")
@sessions.login_required
@blp.arguments(ListArgs(), location="query")
@blp.response(200, TicketPage)
@blp.doc(security=BEARER)
def list_tickets(args):
    user = sessions.viewer()
    coord = args.pop("coord")
    result = queries.list_tickets(user, **args)
    return _answer({"items": present_many(result["items"], user, coord), "next_cursor": result["next_cursor"]})


@blp.get("/nearby")
@blp.arguments(NearbyArgs(), location="query")
@blp.response(200, TicketPage)
@replica_reads
def nearby(args):
    """Open reports near a point (before reporting: is it already reported? then "me too")."""
    user = sessions.viewer()
    found = queries.nearby(**args)
    items = present_many([t for t, _ in found], user, args["coord"])
    for item, (_, distance) in zip(items, found):
        item["distance_m"] = round(distance, 1)
    return _answer({"items": items, "next_cursor": None})


@blp.get("/map")
@blp.arguments(MapArgs(), location="query")
@blp.response(200, TicketPage)
@replica_reads
def in_box(args):
    """Public reports in a bounding box, for the map."""
    result = queries.in_box(**args)
    return _answer({"items": present_many(result["items"], sessions.viewer(), args["coord"]),
                    "next_cursor": result["next_cursor"]})


@blp.get("/<int:ticket_id>")
@blp.arguments(DetailArgs(), location="query")
@blp.response(200, TicketOut)
def get_ticket(args, ticket_id):
    user = sessions.viewer()
    return _answer(present(queries.readable_view(ticket_id, user), user, args["coord"]))


@blp.get("/<int:ticket_id>/events")
@blp.arguments(EventArgs(), location="query")
@blp.response(200, EventPage)
def ticket_events(args, ticket_id):
    user = sessions.viewer()
    ticket = queries.readable_ticket(ticket_id, user)
    result = queries.events(ticket, user, **args)
    return {"items": present_events(ticket, result["items"], user), "next_cursor": result["next_cursor"]}


@blp.post("/<int:ticket_id>/support")
@sessions.login_required
@blp.response(200, SupportOut)
@blp.doc(security=BEARER)
def support(ticket_id):
    """附议 (me too): counted once per user."""
    user = sessions.viewer()
    return {"supporters": operations.support(queries.readable_ticket(ticket_id, user), user)}


def _action_view(action: str, schema):
    @blp.post(f"/<int:ticket_id>/{action}", endpoint=f"action_{action}")
    @sessions.login_required
    @blp.arguments(schema())
    @blp.response(200, TicketOut)
    @blp.doc(security=BEARER, summary=f"{action}", description=operations.ACTIONS[action].__doc__)
    def view(body, ticket_id):
        user = sessions.viewer()
        return _answer(present(queries.view(operations.act(ticket_id, action, user, body).id), user))

    view.__name__ = f"action_{action}"
    return view


for _action, _schema in ACTION_SCHEMAS.items():
    _action_view(_action, _schema)
