import json

from marshmallow import Schema, fields, validate

from ..paging import ID_MAX
from .geo import COORD_SYSTEMS
from .models import UNIT_KINDS


class CoordArgs(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lng = fields.Float(required=True, validate=validate.Range(-180, 180))
    coord = fields.String(load_default="wgs84", validate=validate.OneOf(COORD_SYSTEMS))


class UnitListArgs(Schema):
    parent_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))
    kind = fields.String(validate=validate.OneOf(list(UNIT_KINDS)))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(max=200))


class UnitRef(Schema):
    """A unit named inside another answer (a post, a ticket, a report card)."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()


class UnitBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.Function(lambda u: UNIT_KINDS.get(u.kind, u.kind))
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()


class ResponsibleSchema(Schema):
    name = fields.String()
    title = fields.String()


class UnitDetailSchema(UnitBriefSchema):
    boundary = fields.Function(lambda u: json.loads(u.boundary) if u.boundary else None)
    ancestors = fields.List(fields.Nested(UnitBriefSchema))
    children = fields.List(fields.Nested(UnitBriefSchema))
    responsibles = fields.List(fields.Nested(ResponsibleSchema))


class UnitPageSchema(Schema):
    items = fields.List(fields.Nested(UnitBriefSchema))
    next_cursor = fields.String(allow_none=True)


class StaffMemberSchema(Schema):
    id = fields.Integer()
    display = fields.String()
    role = fields.String()
    role_label = fields.String()
    unit = fields.Nested(UnitBriefSchema)


class StaffListSchema(Schema):
    items = fields.List(fields.Nested(StaffMemberSchema))
