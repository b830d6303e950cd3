from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import sessions
from ..moderation import operations as moderation
from ..openapi import answer
from ..tickets.presenters import present, present_many
from ..tickets.queries import readable_ticket, view, views
from ..tickets.schemas import TicketOut, TicketPage
from ..timeutil import isoformat
from . import operations

blp = Blueprint("privacy", __name__, url_prefix="/api/v1", description="个人信息与审核")
BEARER = [{"bearerAuth": []}]


class ConsentIn(Schema):
    policy_version = fields.String(required=True, validate=validate.Length(min=1, max=32))


@answer()
class ConsentOut(Schema):
    policy_version = fields.String()
    current_version = fields.String()
    consented = fields.Boolean()
    accepted_at = fields.String(allow_none=True)


class QueueArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))


class ModerateIn(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class HideIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@answer()
class ExportPost(Schema):
    unit = fields.String()
    role = fields.String()


@answer()
class ExportUser(Schema):
    id = fields.Integer()
    nickname = fields.String()
    phone = fields.String(allow_none=True)
    created_at = fields.String()
    last_login_at = fields.String(allow_none=True)
    posts = fields.List(fields.Nested(ExportPost))


@answer()
class ExportConsent(Schema):
    policy_version = fields.String()
    accepted_at = fields.String()


@answer()
class ExportEvent(Schema):
    """A public event of one of my reports."""

    action = fields.String()
    to_status = fields.String()
    note = fields.String()
    at = fields.String()


@answer()
class ExportTicket(Schema):
    id = fields.Integer()
    status = fields.String()
    category = fields.String(metadata={"description": "the category's name"})
    description = fields.String()
    lat = fields.Float()
    lng = fields.Float()
    address = fields.String()
    anonymous = fields.Boolean()
    created_at = fields.String()
    events = fields.List(fields.Nested(ExportEvent))


@answer()
class ExportRating(Schema):
    ticket_id = fields.Integer()
    rating = fields.String()
    comment = fields.String()
    at = fields.String()


@answer()
class ExportSupport(Schema):
    ticket_id = fields.Integer()
    at = fields.String()


@answer()
class ExportNotification(Schema):
    title = fields.String()
    body = fields.String()
    at = fields.String()


@answer()
class ExportPhoto(Schema):
    id = fields.Integer()
    content_type = fields.String()
    created_at = fields.String()
    base64 = fields.String(allow_none=True, metadata={"description": "null when the file is gone"})


@answer()
class ExportOut(Schema):
    """Everything held about the user; photos inline as base64."""

    exported_at = fields.String()
    user = fields.Nested(ExportUser)
    consents = fields.List(fields.Nested(ExportConsent))
    tickets = fields.List(fields.Nested(ExportTicket))
    ratings = fields.List(fields.Nested(ExportRating))
    supports = fields.List(fields.Nested(ExportSupport))
    notifications = fields.List(fields.Nested(ExportNotification))
    subscriptions = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                metadata={"description": "one-time subscribe messages left, by template name"})
    photos = fields.List(fields.Nested(ExportPhoto))


def _consent_state(row):
    """The user's latest agreement (its version and time) against the current policy."""
    current = operations.current_policy()
    return {"policy_version": row.policy_version if row else current, "current_version": current,
            "consented": row is not None and row.policy_version == current,
            "accepted_at": isoformat(row.accepted_at) if row else None}


@blp.get("/me/consent")
@sessions.login_required
@blp.response(200, ConsentOut)
@blp.doc(security=BEARER)
def get_consent():
    """Whether the user has agreed to the current privacy policy."""
    return _consent_state(operations.latest_consent(sessions.current_user()))


@blp.post("/me/consent")
@sessions.login_required
@blp.arguments(ConsentIn())
@blp.response(201, ConsentOut)
@blp.doc(security=BEARER)
def give_consent(body):
    """Record the user's agreement to the privacy policy (before the first report)."""
    user = sessions.current_user()
    return _consent_state(operations.record_consent(user, body["policy_version"]))


@blp.get("/me/export")
@sessions.login_required
@blp.response(200, ExportOut)
@blp.doc(security=BEARER)
def export_me():
    """Everything held about me, as JSON, my photos included (base64)."""
    return operations.export(sessions.current_user())


@blp.delete("/me")
@sessions.login_required
@blp.response(204)
@blp.doc(security=BEARER)
def delete_me():
    """Delete my account; my reports stay in the public record, anonymised."""
    operations.delete_account(sessions.current_user())


@blp.get("/moderation/tickets")
@sessions.login_required
@blp.arguments(QueueArgs(), location="query")
@blp.response(200, TicketPage)
@blp.doc(security=BEARER)
def moderation_queue(args):
    """Held reports in my units, waiting to be approved or hidden."""
    user = sessions.current_user()
    result = moderation.queue(user, **args)
    return {"items": present_many(views(result["items"]), sessions.viewer()),
            "next_cursor": result["next_cursor"]}


@blp.post("/moderation/tickets/<int:ticket_id>/approve")
@sessions.login_required
@blp.arguments(ModerateIn())
@blp.response(200, TicketOut)
@blp.doc(security=BEARER)
def approve(body, ticket_id):
    user = sessions.current_user()
    return present(view(moderation.approve(readable_ticket(ticket_id, user), user, body["note"]).id), sessions.viewer())


@blp.post("/moderation/tickets/<int:ticket_id>/hide")
@sessions.login_required
@blp.arguments(HideIn())
@blp.response(200, TicketOut)
@blp.doc(security=BEARER)
def hide(body, ticket_id):
    user = sessions.current_user()
    return present(view(moderation.hide(readable_ticket(ticket_id, user), user, body["reason"]).id), sessions.viewer())
