from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import sessions
from ..openapi import answer
from ..timeutil import isoformat
from . import consent, operations

blp = Blueprint("privacy", __name__, url_prefix="/api/v1", description="个人信息")
BEARER = [{"bearerAuth": []}]


class ConsentIn(Schema):
    policy_version = fields.String(required=True, validate=validate.Length(min=1, max=32))


@answer()
class ConsentOut(Schema):
    policy_version = fields.String()
    current_version = fields.String()
    consented = fields.Boolean()
    accepted_at = fields.String(allow_none=True)


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
    url = fields.String(metadata={"description": "its address, signed for the user (fetch it apart)"})


@answer()
class ExportHome(Schema):
    unit_id = fields.Integer()
    household = fields.String()
    status = fields.String()


@answer()
class ExportVoteTaken(Schema):
    """A vote I took part in, and by which channel: never what I voted."""

    vote_id = fields.Integer()
    channel = fields.String()


@answer()
class ExportOpinion(Schema):
    topic_id = fields.Integer()
    body = fields.String()
    at = fields.String()


@answer()
class ExportFollow(Schema):
    topic_id = fields.Integer(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)


@answer()
class ExportSeat(Schema):
    unit_id = fields.Integer()
    name = fields.String()


@answer()
class ExportOut(Schema):
    """Everything held about the user; photos by their (signed) addresses."""

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
    homes = fields.List(fields.Nested(ExportHome))
    votes_taken = fields.List(fields.Nested(ExportVoteTaken))
    opinions = fields.List(fields.Nested(ExportOpinion))
    follows = fields.List(fields.Nested(ExportFollow))
    council_seats = fields.List(fields.Nested(ExportSeat))


def _consent_state(row):
    """The user's latest agreement (its version and time) against the current policy."""
    current = consent.current_policy()
    return {"policy_version": row.policy_version if row else current, "current_version": current,
            "consented": row is not None and row.policy_version == current,
            "accepted_at": isoformat(row.accepted_at) if row else None}


@blp.get("/me/consent")
@sessions.login_required
@blp.response(200, ConsentOut)
@blp.doc(security=BEARER)
def get_consent():
    """Whether the user has agreed to the current privacy policy."""
    return _consent_state(consent.latest_consent(sessions.current_user()))


@blp.post("/me/consent")
@sessions.login_required
@blp.arguments(ConsentIn())
@blp.response(201, ConsentOut)
@blp.doc(security=BEARER)
def give_consent(body):
    """Record the user's agreement to the privacy policy (before the first report)."""
    user = sessions.current_user()
    return _consent_state(consent.record_consent(user, body["policy_version"]))


@blp.get("/me/export")
@sessions.login_required
@blp.response(200, ExportOut)
@blp.doc(security=BEARER)
def export_me():
    """Everything held about me, as JSON; my photos by their addresses, each fetched apart."""
    return operations.export(sessions.current_user())


@blp.delete("/me")
@sessions.login_required
@blp.response(204)
@blp.doc(security=BEARER)
def delete_me():
    """Delete my account; my reports stay in the public record, anonymised."""
    operations.delete_account(sessions.current_user())
