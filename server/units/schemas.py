import json

from marshmallow import Schema, fields, validate

from ..openapi import answer
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


@answer("kind")
class UnitRef(Schema):
    """A unit named inside another answer (a post, a ticket, a report card)."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()


@answer()
class UnitBriefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.Function(lambda u: UNIT_KINDS.get(u.kind, u.kind), metadata={"type": "string"})
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()


@answer()
class ResponsibleSchema(Schema):
    name = fields.String()
    title = fields.String()


_POSITION = {"type": "array", "items": {"type": "number"}, "minItems": 2, "description": "longitude, latitude"}
_POLYGON = {"type": "array", "items": {"type": "array", "items": _POSITION}, "description": "rings"}


@answer()
class BoundarySchema(Schema):
    """A GeoJSON Polygon or MultiPolygon, WGS-84."""

    type = fields.String(validate=validate.OneOf(["Polygon", "MultiPolygon"]))
    coordinates = fields.Raw(metadata={"oneOf": [_POLYGON, {"type": "array", "items": _POLYGON}]})


class _StoredGeoJSON(fields.Nested):
    """A geometry kept as GeoJSON text."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(json.loads(value) if value else None, attr, obj, **kwargs)


@answer()
class UnitDetailSchema(UnitBriefSchema):
    boundary = _StoredGeoJSON(BoundarySchema, allow_none=True)
    ancestors = fields.List(fields.Nested(UnitBriefSchema))
    children = fields.List(fields.Nested(UnitBriefSchema))
    responsibles = fields.List(fields.Nested(ResponsibleSchema))


@answer()
class UnitPageSchema(Schema):
    items = fields.List(fields.Nested(UnitBriefSchema))
    next_cursor = fields.String(allow_none=True)


@answer()
class StaffMemberSchema(Schema):
    id = fields.Integer()
    display = fields.String()
    role = fields.String()
    role_label = fields.String()
    unit = fields.Nested(UnitBriefSchema)


@answer()
class StaffListSchema(Schema):
    items = fields.List(fields.Nested(StaffMemberSchema))
