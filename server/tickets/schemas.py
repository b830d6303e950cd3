"""Load schemas for every create and action, and the shapes answered (per-role fields are
filled by presenters.py; these declare them for the OpenAPI document)."""
from marshmallow import Schema, fields, validate

from ..openapi import answer
from ..paging import ID_MAX
from ..units.geo import COORD_SYSTEMS
from ..units.schemas import ResponsibleSchema, UnitRef
from . import lifecycle as lc

Note = lambda **kw: fields.String(load_default="", validate=validate.Length(max=2000), **kw)  # noqa: E731
Version = lambda: fields.Integer(validate=validate.Range(min=1, max=ID_MAX))  # noqa: E731
MediaIds = lambda: fields.List(fields.Integer(validate=validate.Range(min=1, max=ID_MAX)), load_default=list,  # noqa: E731
                               validate=validate.Length(max=9))
Lat = lambda **kw: fields.Float(validate=validate.Range(-90, 90), allow_nan=False, **kw)  # noqa: E731
Lng = lambda **kw: fields.Float(validate=validate.Range(-180, 180), allow_nan=False, **kw)  # noqa: E731
Status = lambda **kw: fields.String(validate=validate.OneOf([s.value for s in lc.Status]), **kw)  # noqa: E731
Coord = lambda: fields.String(load_default="wgs84", validate=validate.OneOf(COORD_SYSTEMS))  # noqa: E731


class TicketCreateSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # Optional with a photo (a picture says it); reporting.report refuses a report with neither.
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    lat = Lat(required=True)
    lng = Lng(required=True)
    coord = Coord()
    address = fields.String(load_default="", validate=validate.Length(max=255))
    media = MediaIds()
    anonymous = fields.Boolean(load_default=False)


class AcceptSchema(Schema):
    note = Note()
    version = Version()


class ReturnSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(lc.RETURN_REASONS))
    duplicate_of = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))
    note = Note()
    version = Version()


class TransferSchema(Schema):
    unit_id = fields.Integer(required=True, validate=validate.Range(min=1, max=ID_MAX))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    version = Version()


class WithdrawSchema(AcceptSchema):
    pass


class ProposeSchema(AcceptSchema):
    pass


class AssignSchema(Schema):
    assignee_id = fields.Integer(required=True, validate=validate.Range(min=1, max=ID_MAX))
    unit_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))
    due_at = fields.AwareDateTime(default_timezone=None)
    priority = fields.String(load_default="normal", validate=validate.OneOf(["normal", "urgent"]))
    note = Note()
    version = Version()


class ProgressSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    media = MediaIds()
    public = fields.Boolean(load_default=True)
    version = Version()


class ResolveSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    media = MediaIds()
    version = Version()


class RateSchema(Schema):
    rating = fields.String(required=True, validate=validate.OneOf(lc.RATINGS))
    comment = fields.String(load_default="", validate=validate.Length(max=500))
    version = Version()


ACTION_SCHEMAS = {
    "accept": AcceptSchema,
    "return": ReturnSchema,
    "transfer": TransferSchema,
    "withdraw": WithdrawSchema,
    "propose": ProposeSchema,
    "assign": AssignSchema,
    "progress": ProgressSchema,
    "resolve": ResolveSchema,
    "rate": RateSchema,
}


class ListArgs(Schema):
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "unit", "supervision"]))
    status = fields.List(Status())
    category = fields.String(validate=validate.Length(max=64))
    overdue = fields.Boolean()
    unit = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))
    coord = Coord()


class NearbyArgs(Schema):
    lat = Lat(required=True)
    lng = Lng(required=True)
    coord = Coord()
    category = fields.String(validate=validate.Length(max=64))
    radius = fields.Integer(load_default=200, validate=validate.Range(1, 2000))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class MapArgs(Schema):
    min_lat = Lat(required=True)
    min_lng = Lng(required=True)
    max_lat = Lat(required=True)
    max_lng = Lng(required=True)
    coord = Coord()
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "closed", "all"]))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=200))


class EventArgs(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(max=200))


class DetailArgs(Schema):
    coord = Coord()


@answer()
class MediaOut(Schema):
    id = fields.Integer()
    url = fields.String()
    thumbnail_url = fields.String()


@answer("id", "phone_masked")
class PersonOut(Schema):
    """The reporter or the assignee: `id` where the viewer may know it, the masked phone
    for the reporter themself and staff in scope (a ticket's own page)."""

    id = fields.Integer()
    display = fields.String()
    phone_masked = fields.String(allow_none=True)


@answer()
class TicketCategory(Schema):
    code = fields.String()
    name = fields.String()
    icon = fields.String()


@answer()
class RatingOut(Schema):
    """The reporter's rating that closed the ticket."""

    rating = fields.String(validate=validate.OneOf(lc.RATINGS))
    label = fields.String()
    comment = fields.String()
    at = fields.String(allow_none=True)


@answer("responsibles", "distance_m")
class TicketOut(Schema):
    id = fields.Integer()
    status = Status()
    status_label = fields.String()
    category = fields.Nested(TicketCategory)
    description = fields.String()
    lat = fields.Float()
    lng = fields.Float()
    coord = fields.String()
    address = fields.String()
    unit = fields.Nested(UnitRef)
    responsibles = fields.List(fields.Nested(ResponsibleSchema), metadata={"description": "a ticket's own page only"})
    triage = fields.Boolean()
    held = fields.Boolean()
    reporter = fields.Nested(PersonOut)
    assignee = fields.Nested(PersonOut, allow_none=True)
    priority = fields.String()
    respond_by = fields.String()
    resolve_by = fields.String()
    due_at = fields.String()
    responded_at = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True)
    overdue = fields.Boolean()
    redo = fields.Boolean()
    redo_count = fields.Integer()
    return_reason = fields.String(allow_none=True)
    duplicate_of = fields.Integer(allow_none=True)
    media = fields.List(fields.Nested(MediaOut))
    supporters = fields.Integer()
    rating = fields.Nested(RatingOut, allow_none=True)
    distance_m = fields.Float(metadata={"description": "nearby only"})
    created_at = fields.String()
    version = fields.Integer()
    allowed_actions = fields.List(fields.String())


@answer()
class TicketPage(Schema):
    items = fields.List(fields.Nested(TicketOut))
    next_cursor = fields.String(allow_none=True)


@answer()
class ActorOut(Schema):
    role = fields.String(metadata={"description": "reporter, resident, assignee, system or a staff role"})
    display = fields.String()


class EventData(Schema):
    """What an event records beyond its note, by action (every key optional). The public
    and residents see reason, rating, redo, duplicate_of and late; staff in scope see all."""

    triage = fields.Boolean(metadata={"description": "report: no unit's area held the place"})
    held = fields.Boolean(metadata={"description": "report: held for moderation"})
    reason = fields.String(validate=validate.OneOf(lc.RETURN_REASONS), metadata={"description": "return"})
    duplicate_of = fields.Integer(metadata={"description": "return as a duplicate: the original"})
    duplicate = fields.Integer(metadata={"description": "merge: the duplicate returned into this one"})
    from_unit = fields.Integer(metadata={"description": "transfer"})
    to_unit = fields.Integer(metadata={"description": "transfer"})
    assignee = fields.Integer(metadata={"description": "assign"})
    unit = fields.Integer(metadata={"description": "assign"})
    due_at = fields.String(metadata={"description": "assign"})
    priority = fields.String(validate=validate.OneOf(["normal", "urgent"]), metadata={"description": "assign"})
    rating = fields.String(validate=validate.OneOf(lc.RATINGS), metadata={"description": "rate, redo"})
    redo = fields.Boolean(metadata={"description": "redo: dissatisfied, reopened"})
    late = fields.String(validate=validate.OneOf(["respond", "resolve"]), metadata={"description": "escalate"})
    supervising_unit = fields.Integer(metadata={"description": "escalate"})
    unrated = fields.Boolean(metadata={"description": "close: the rating window passed"})


@answer()
class EventOut(Schema):
    id = fields.Integer()
    action = fields.String()
    from_status = Status(allow_none=True)
    to_status = Status()
    to_status_label = fields.String()
    actor = fields.Nested(ActorOut)
    note = fields.String()
    public = fields.Boolean()
    data = fields.Nested(EventData)
    media = fields.List(fields.Nested(MediaOut))
    at = fields.String()


@answer()
class EventPage(Schema):
    items = fields.List(fields.Nested(EventOut))
    next_cursor = fields.String(allow_none=True)


@answer()
class SupportOut(Schema):
    supporters = fields.Integer()
