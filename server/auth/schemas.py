from marshmallow import Schema, fields, validate

from .. import crypto
from ..openapi import answer
from ..units.schemas import UnitRef
from .models import ROLE_LABELS


class LoginSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class PhoneCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


@answer()
class PostSchema(Schema):
    unit = fields.Nested(UnitRef)
    role = fields.Function(lambda post: post.role.value, metadata={"type": "string"})
    role_label = fields.Function(lambda post: ROLE_LABELS[post.role], metadata={"type": "string"})


@answer()
class UserSchema(Schema):
    """The user as they see themselves: the phone is masked even here."""

    id = fields.Integer()
    nickname = fields.String()
    phone_masked = fields.Function(lambda user: crypto.mask_phone(crypto.decrypt(user.phone_enc)),
                                   metadata={"type": "string", "nullable": True})
    posts = fields.List(fields.Nested(PostSchema))
    created_at = fields.DateTime(format="iso")


@answer()
class LoginResultSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime(format="iso")
    user = fields.Nested(UserSchema)
