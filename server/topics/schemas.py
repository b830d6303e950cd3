"""Topics: what requests send and what answers hold (every answered field described)."""
from marshmallow import Schema, fields, validate

from ..openapi import answer
from ..paging import ID_MAX
from ..tickets.schemas import MediaOut


class TopicListArgs(Schema):
    unit_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))
    group = fields.String(validate=validate.OneOf(["open", "voting", "decided", "ended", "draft"]))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))


class TopicCreate(Schema):
    unit_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(load_default="", validate=validate.Length(max=5000))


class VoteSettings(Schema):
    title = fields.String(validate=validate.Length(max=200))
    options = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                          validate=validate.Length(min=2, max=10))
    yes_option = fields.Integer(load_default=0, validate=validate.Range(0, 9))
    opens_at = fields.AwareDateTime(required=True, default_timezone=None)
    closes_at = fields.AwareDateTime(required=True, default_timezone=None)
    by_household = fields.Boolean(load_default=False)
    quorum_pct = fields.Integer(load_default=50, validate=validate.Range(0, 100))
    threshold_pct = fields.Integer(load_default=50, validate=validate.Range(0, 99))


class StageIn(Schema):
    """What every stage takes: the topic's version, and attachments (the sender's uploaded photos)."""

    version = fields.Integer(validate=validate.Range(1, ID_MAX))
    media = fields.List(fields.Integer(validate=validate.Range(1, ID_MAX)), load_default=list,
                        validate=validate.Length(max=9))


class NoteIn(StageIn):
    note = fields.String(load_default="", validate=validate.Length(max=5000))


class SolicitIn(NoteIn):
    until = fields.AwareDateTime(required=True, default_timezone=None)


class ResidentsIn(NoteIn):
    method = fields.String(required=True, validate=validate.OneOf(["assembly", "vote"]))
    vote = fields.Nested(VoteSettings)


class DecideIn(NoteIn):
    passed = fields.Boolean(required=True)


class DecisionIn(StageIn):
    decision = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ResultIn(StageIn):
    result = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ReasonIn(StageIn):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


ACTION_SCHEMAS = {"solicit": SolicitIn, "propose": NoteIn, "deliberate": NoteIn, "put_to_residents": ResidentsIn,
                  "decide": DecideIn, "publish_decision": DecisionIn, "publish_result": ResultIn, "close": NoteIn,
                  "withdraw": ReasonIn, "reject": ReasonIn}


class OpinionIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    media = fields.List(fields.Integer(validate=validate.Range(1, ID_MAX)), load_default=list,
                        validate=validate.Length(max=9))


class ModerateOpinionIn(Schema):
    approve = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ReplyIn(Schema):
    reply = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class SessionIn(StageIn):
    motion = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    present = fields.List(fields.Integer(validate=validate.Range(1, ID_MAX)), required=True,
                          validate=validate.Length(max=500))
    votes = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,10}$")),
                        values=fields.String(validate=validate.OneOf(["yes", "no", "abstain"])), required=True)
    minutes = fields.String(load_default="", validate=validate.Length(max=10000))


class SeatIn(Schema):
    unit_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))
    user_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))


class HotspotArgs(Schema):
    """A unit (for its hot spots, or its council)."""

    unit_id = fields.Integer(required=True, validate=validate.Range(1, ID_MAX))


@answer("ticket_id", "solicit_until", "decision_method", "passed")
class TopicOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    title = fields.String()
    body = fields.String()
    source = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    status = fields.String()
    status_label = fields.String()
    solicit_until = fields.DateTime(allow_none=True)
    decision_method = fields.String(allow_none=True)
    passed = fields.Boolean(allow_none=True)
    decision = fields.String()
    result = fields.String()
    opinions = fields.Integer(metadata={"description": "public opinions received"})
    allowed_actions = fields.List(fields.String())
    version = fields.Integer()
    created_at = fields.DateTime()


@answer()
class TopicPage(Schema):
    items = fields.List(fields.Nested(TopicOut))
    next_cursor = fields.String(allow_none=True)


class TopicEventData(Schema):
    """What a topic's event records beyond its note, by action (every key optional)."""

    source = fields.String(metadata={"description": "create: staff, ticket, need or hotspot"})
    ticket = fields.Integer(allow_none=True, metadata={"description": "create: the ticket it came from"})
    until = fields.String(metadata={"description": "solicit: the end of the window"})
    opinions = fields.Integer(metadata={"description": "propose: opinions received"})
    method = fields.String(metadata={"description": "put_to_residents: assembly or vote"})
    vote = fields.Integer(metadata={"description": "put_to_residents: the vote"})
    passed = fields.Boolean(metadata={"description": "decide, council"})
    session = fields.Integer(metadata={"description": "council: the sitting"})
    present = fields.Integer(metadata={"description": "council: members present"})
    members = fields.Integer(metadata={"description": "council: seats"})
    yes = fields.Integer(metadata={"description": "council: yes votes"})


@answer()
class TopicEventOut(Schema):
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor_role = fields.String()
    note = fields.String()
    data = fields.Nested(TopicEventData)
    media = fields.List(fields.Nested(MediaOut), metadata={"description": "the stage's attachments"})
    at = fields.DateTime()


@answer()
class SessionOut(Schema):
    id = fields.Integer()
    motion = fields.String()
    members = fields.Integer()
    present = fields.List(fields.String(), metadata={"description": "names of the members present"})
    votes = fields.Dict(keys=fields.String(metadata={"description": "a member's name"}),
                        values=fields.String(validate=validate.OneOf(["yes", "no", "abstain"])))
    rule = fields.String(metadata={"description": "e.g. 2/3 present, more than 1/2 of them"})
    passed = fields.Boolean()
    minutes = fields.String()
    held_at = fields.DateTime()


@answer()
class TopicDetail(TopicOut):
    timeline = fields.List(fields.Nested(TopicEventOut))
    sessions = fields.List(fields.Nested(SessionOut))
    votes = fields.List(fields.Integer(), metadata={"description": "ids of the topic's votes"})
    following = fields.Boolean()


@answer("reply")
class OpinionOut(Schema):
    id = fields.Integer()
    body = fields.String()
    mine = fields.Boolean()
    held = fields.Boolean(metadata={"description": "waiting for a moderator (its writer and staff see it)"})
    hidden = fields.Boolean(metadata={"description": "refused by a moderator (its writer alone sees it)"})
    media = fields.List(fields.Nested(MediaOut))
    reply = fields.String()
    created_at = fields.DateTime()


@answer()
class OpinionPage(Schema):
    items = fields.List(fields.Nested(OpinionOut))
    next_cursor = fields.String(allow_none=True)


@answer()
class SeatOut(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    name = fields.String()


@answer()
class SeatList(Schema):
    items = fields.List(fields.Nested(SeatOut))


@answer()
class FollowOut(Schema):
    kind = fields.String(validate=validate.OneOf(["topic", "ticket"]))
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    status_label = fields.String()


@answer()
class FollowList(Schema):
    items = fields.List(fields.Nested(FollowOut))


@answer()
class HotspotOut(Schema):
    category = fields.String()
    lat = fields.Float()
    lng = fields.Float()
    tickets = fields.List(fields.Integer())


@answer()
class HotspotList(Schema):
    items = fields.List(fields.Nested(HotspotOut))
