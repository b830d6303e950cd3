"""The moderation queue and its two actions: thin views."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import sessions
from ..tickets import operations as ticket_ops
from ..tickets.presenters import present, present_many
from ..tickets.queries import readable_ticket, view, views
from ..tickets.schemas import TicketOut, TicketPage
from . import operations

blp = Blueprint("moderation", __name__, url_prefix="/api/v1/moderation", description="审核")
BEARER = [{"bearerAuth": []}]


class QueueArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))


class ModerateIn(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class HideIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@blp.get("/tickets")
@sessions.login_required
@blp.arguments(QueueArgs(), location="query")
@blp.response(200, TicketPage)
@blp.doc(security=BEARER)
def moderation_queue(args):
    """Held reports in my units, waiting to be approved or hidden."""
    actor = sessions.viewer()
    result = operations.queue(actor, **args)
    return {"items": present_many(views(result["items"]), actor), "next_cursor": result["next_cursor"]}


@blp.post("/tickets/<int:ticket_id>/approve")
@sessions.login_required
@blp.arguments(ModerateIn())
@blp.response(200, TicketOut)
@blp.doc(security=BEARER)
def approve(body, ticket_id):
    actor = sessions.viewer()
    return present(view(ticket_ops.approve(readable_ticket(ticket_id, actor), actor, body["note"]).id), actor)


@blp.post("/tickets/<int:ticket_id>/hide")
@sessions.login_required
@blp.arguments(HideIn())
@blp.response(200, TicketOut)
@blp.doc(security=BEARER)
def hide(body, ticket_id):
    actor = sessions.viewer()
    return present(view(ticket_ops.hide(readable_ticket(ticket_id, actor), actor, body["reason"]).id), actor)
