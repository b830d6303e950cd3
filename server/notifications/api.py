from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import sessions
from ..openapi import answer
from ..timeutil import isoformat
from . import operations
from .delivery import page_for
from .outbox import long_term_templates, template_ids
from .templates import TEMPLATES

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="消息与订阅")
BEARER = [{"bearerAuth": []}]

_STATE_LABELS = {"sent": "已推送", "inbox": "站内消息", "no_quota": "未订阅，仅站内", "failed": "推送失败",
                 "pending": "待推送", "sending": "推送中"}


class InboxArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))
    unread = fields.Boolean(load_default=False)


@answer()
class NotificationOut(Schema):
    id = fields.Integer()
    template = fields.String()
    title = fields.String()
    body = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    page = fields.Function(lambda n: "/" + page_for(n), metadata={
        "type": "string", "description": "the mini-program page that shows its subject (a ticket, a topic, a vote)"})
    read = fields.Function(lambda n: n.read_at is not None, metadata={"type": "boolean"})
    delivery = fields.String(attribute="state", validate=validate.OneOf(list(_STATE_LABELS)))
    delivery_label = fields.Function(lambda n: _STATE_LABELS.get(n.state, n.state), metadata={"type": "string"})
    created_at = fields.Function(lambda n: isoformat(n.created_at), metadata={"type": "string"})


@answer()
class InboxOut(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    next_cursor = fields.String(allow_none=True)
    unread = fields.Integer()


@answer()
class UnreadOut(Schema):
    unread = fields.Integer()


class SubscriptionsIn(Schema):
    accepted = fields.Dict(keys=fields.String(validate=validate.Length(max=40)),
                           values=fields.Integer(validate=validate.Range(0, 100)), required=True,
                           validate=validate.Length(max=20))


@answer()
class QuotaOut(Schema):
    quota = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True),
                        metadata={"description": "one-time messages left by template name; null for a long-term template"})


@answer()
class TemplateOut(Schema):
    name = fields.String()
    template_id = fields.String(metadata={"description": "for wx.requestSubscribeMessage"})
    title = fields.String()
    long_term = fields.Boolean()


@answer()
class TemplatesOut(Schema):
    templates = fields.List(fields.Nested(TemplateOut))


@blp.get("/notifications")
@sessions.login_required
@blp.arguments(InboxArgs(), location="query")
@blp.response(200, InboxOut)
@blp.doc(security=BEARER)
def list_notifications(args):
    """The in-app inbox, newest first, with the unread count."""
    return operations.inbox(sessions.viewer(), args["limit"], args.get("cursor"), args["unread"])


@blp.post("/notifications/<int:notification_id>/read")
@sessions.login_required
@blp.response(200, UnreadOut)
@blp.doc(security=BEARER)
def read_one(notification_id):
    return {"unread": operations.mark_read(sessions.viewer(), notification_id)}


@blp.post("/notifications/read-all")
@sessions.login_required
@blp.response(200, UnreadOut)
@blp.doc(security=BEARER)
def read_all():
    return {"unread": operations.mark_read(sessions.viewer())}


@blp.post("/me/subscriptions")
@sessions.login_required
@blp.arguments(SubscriptionsIn())
@blp.response(200, QuotaOut)
@blp.doc(security=BEARER)
def record_subscriptions(body):
    """What the user accepted in wx.requestSubscribeMessage: {template_name: count}."""
    return {"quota": operations.record_subscriptions(sessions.viewer(), body["accepted"])}


@blp.get("/me/subscriptions")
@sessions.login_required
@blp.response(200, QuotaOut)
@blp.doc(security=BEARER)
def get_subscriptions():
    return {"quota": operations.quotas(sessions.viewer())}


@blp.get("/config/subscriptions")
@blp.response(200, TemplatesOut)
def subscription_templates():
    """Template ids for wx.requestSubscribeMessage, by name."""
    long_term = long_term_templates()
    return {"templates": [{"name": name, "template_id": tid, "title": TEMPLATES[name].title,
                           "long_term": name in long_term} for name, tid in template_ids().items()]}
