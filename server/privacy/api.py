from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import sessions
from ..timeutil import isoformat
from . import consent, operations

blp = Blueprint("privacy", __name__, url_prefix="/api/v1", description="个人信息")
BEARER = [{"bearerAuth": []}]


class ConsentIn(Schema):
    policy_version = fields.String(required=True, validate=validate.Length(min=1, max=32))


class ConsentOut(Schema):
    policy_version = fields.String()
    current_version = fields.String()
    consented = fields.Boolean()
    accepted_at = fields.String(allow_none=True)


class ExportOut(Schema):
    """Everything held about the user; photos by their (signed) addresses."""

    exported_at = fields.String()
    user = fields.Dict()
    consents = fields.List(fields.Dict())
    tickets = fields.List(fields.Dict())
    ratings = fields.List(fields.Dict())
    supports = fields.List(fields.Dict())
    notifications = fields.List(fields.Dict())
    subscriptions = fields.Dict()
    photos = fields.List(fields.Dict())


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
