"""Query arguments and the shapes answered by the report-card and bulletin endpoints."""
from marshmallow import Schema, fields, validate

from ..openapi import answer
from ..units.schemas import UnitRef

Rate = lambda: fields.Float(allow_none=True, metadata={"description": "fraction 0..1; null when the denominator is 0"})  # noqa: E731
Hours = lambda: fields.Float(allow_none=True)  # noqa: E731


class PeriodArgs(Schema):
    period = fields.String(validate=validate.Length(max=32),
                           metadata={"description": "YYYY-MM or YYYY-MM..YYYY-MM (Asia/Shanghai months, at most 24)"})
    category = fields.String(validate=validate.Length(min=1, max=64))


class CategoryPeriodArgs(Schema):
    period = fields.String(validate=validate.Length(max=32))


class BulletinListArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(max=200))


class BulletinDetailArgs(Schema):
    # Compared in Python with the frozen rows, never sent to the database: no upper bound needed.
    parent_id = fields.Integer(validate=validate.Range(min=1),
                               metadata={"description": "only the units directly under this one (one ranking)"})


@answer()
class ReportCategoryRef(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ReportNumbers(Schema):
    received = fields.Integer()
    response_base = fields.Integer()
    responded_in_time = fields.Integer()
    response_rate = Rate()
    should_resolve = fields.Integer()
    resolved = fields.Integer()
    resolution_rate = Rate()
    resolved_on_time = fields.Integer()
    on_time_resolution_rate = Rate()
    rated = fields.Integer()
    satisfied = fields.Integer()
    basically_satisfied = fields.Integer()
    dissatisfied = fields.Integer()
    satisfaction_rate = Rate()
    unrated = fields.Integer()
    overdue = fields.Integer()
    redo = fields.Integer()
    avg_response_hours = Hours()
    median_response_hours = Hours()
    avg_resolution_hours = Hours()
    median_resolution_hours = Hours()
    score = fields.Float(allow_none=True)
    ranked = fields.Boolean()
    rank = fields.Integer(allow_none=True)


class ReportPeriodFields(Schema):
    period = fields.String()
    period_label = fields.String()
    starts_at = fields.String()
    ends_at = fields.String()
    as_of = fields.String()


@answer()
class ReportRules(Schema):
    min_tickets = fields.Integer()
    weights = fields.Dict(keys=fields.String(), values=fields.Float())
    definitions = fields.Dict(keys=fields.String(), values=fields.String())


@answer()
class ReportUnitCard(ReportNumbers, ReportPeriodFields, ReportRules):
    unit = fields.Nested(UnitRef)
    category = fields.Nested(ReportCategoryRef, allow_none=True)
    ranked_among = fields.Integer()


@answer()
class ReportRankedUnit(ReportNumbers):
    unit = fields.Nested(UnitRef)


@answer()
class ReportRanking(ReportPeriodFields, ReportRules):
    unit = fields.Nested(UnitRef)
    category = fields.Nested(ReportCategoryRef, allow_none=True)
    items = fields.List(fields.Nested(ReportRankedUnit))


@answer("rank")  # categories are not ranked
class ReportCategoryNumbers(ReportNumbers):
    category = fields.Nested(ReportCategoryRef)


@answer()
class ReportCategoryCards(ReportPeriodFields, ReportRules):
    unit = fields.Nested(UnitRef)
    items = fields.List(fields.Nested(ReportCategoryNumbers))


@answer("kind")  # required once the mini-program's canned bulletins carry it
class BulletinBrief(Schema):
    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(["bulletin"]), metadata={"description": "what was frozen: the public bulletin"})
    title = fields.String()
    period = fields.String()
    period_label = fields.String()
    starts_at = fields.String()
    ends_at = fields.String()
    as_of = fields.String()
    published_at = fields.String()


@answer()
class BulletinPage(Schema):
    items = fields.List(fields.Nested(BulletinBrief))
    next_cursor = fields.String(allow_none=True)


@answer()
class BulletinUnit(ReportNumbers):
    unit = fields.Nested(UnitRef)
    parent_id = fields.Integer(allow_none=True)
    depth = fields.Integer()


@answer("kind")  # required once the mini-program's canned bulletins carry it
class BulletinDetail(BulletinBrief, ReportRules):
    units = fields.List(fields.Nested(BulletinUnit))
