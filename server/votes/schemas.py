"""Votes and the roll: what requests send and what answers hold."""
from marshmallow import Schema, fields, validate

from ..openapi import answer
from ..paging import ID_MAX
from ..topics.schemas import VoteSettings

_id = validate.Range(1, ID_MAX)


class VoteCreate(VoteSettings):
    unit_id = fields.Integer(required=True, validate=_id)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CastIn(Schema):
    option_id = fields.Integer(required=True, validate=_id)


class PaperIn(CastIn):
    entry_id = fields.Integer(required=True, validate=_id)


class VersionIn(Schema):
    version = fields.Integer(validate=_id)


class CancelIn(VersionIn):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class UnitArgs(Schema):
    unit_id = fields.Integer(required=True, validate=_id)


class ClaimIn(Schema):
    unit_id = fields.Integer(required=True, validate=_id)
    household = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(load_default="", validate=validate.Length(max=64))


class ReviewIn(Schema):
    confirm = fields.Boolean(required=True)
    version = fields.Integer(validate=_id)


class RollRow(Schema):
    household = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(load_default="", validate=validate.Length(max=64))


class RollImport(Schema):
    unit_id = fields.Integer(required=True, validate=_id)
    households = fields.List(fields.Nested(RollRow), required=True, validate=validate.Length(min=1, max=20000))


@answer()
class OptionOut(Schema):
    id = fields.Integer()
    label = fields.String()
    is_yes = fields.Boolean()


@answer("counts")
class ResultOut(Schema):
    ballots = fields.Integer()
    roll_size = fields.Integer()
    turnout_pct = fields.Float()
    quorum_met = fields.Boolean()
    passed = fields.Boolean()
    counts = fields.Dict(keys=fields.String(metadata={"description": "an option's id"}), values=fields.Integer(),
                         allow_none=True, metadata={"description": "null below 5 ballots"})


@answer("topic_id", "channel", "my_option", "result")
class VoteOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    topic_id = fields.Integer(allow_none=True)
    title = fields.String()
    status = fields.String()
    status_label = fields.String()
    by_household = fields.Boolean()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    quorum_pct = fields.Integer()
    threshold_pct = fields.Integer()
    roll_size = fields.Integer()
    options = fields.List(fields.Nested(OptionOut))
    voted = fields.Boolean(metadata={"description": "whether I (or my household) have voted"})
    channel = fields.String(allow_none=True)
    my_option = fields.Integer(allow_none=True, metadata={"description": "my own choice, to me alone, while open"})
    result = fields.Nested(ResultOut, allow_none=True, metadata={"description": "after the close only"})


@answer()
class VoteList(Schema):
    items = fields.List(fields.Nested(VoteOut))


@answer("household")
class RollEntryOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    household = fields.String(allow_none=True)
    name = fields.String()
    status = fields.String()
    version = fields.Integer()


@answer()
class RollList(Schema):
    items = fields.List(fields.Nested(RollEntryOut))


@answer()
class ImportOut(Schema):
    added = fields.Integer()
