"""The GeoReport query strings and form bodies, parsed with marshmallow.

Every problem is an English sentence naming its parameter; all of a request's problems are
answered together as Open311's error list (400). Empty parameters count as absent, as the
spec asks. Out-of-range numbers and datetimes are refused here, before any query is built.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

import sqlalchemy as sa
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate, validates
from webargs.multidictproxy import MultiDictProxy

from ..categories.models import Category
from ..extensions import db
from ..timeutil import SHANGHAI, utcnow
from .errors import Open311Error

MAX_SPAN = timedelta(days=90)
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
MAX_CODES = 100
MAX_DESCRIPTION = 4000  # the spec's limit
MAX_ADDRESS = 255
# The years a date filter may name: years such as 1 or 9999 would overflow once moved to
# UTC or widened by the 90-day span, and no request is older or newer.
FIRST_YEAR, LAST_YEAR = 2000, 2099
POINT_REQUIRED = ("lat and long (WGS-84) are required: requests here are routed to the responsible unit by "
                  "their point, so address_string or address_id alone cannot be accepted")
_ID = re.compile(r"\d{1,18}")


@dataclass
class RequestQuery:
    ids: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE
    extensions: bool = False


# --- fields -----------------------------------------------------------------------------


class Listed(fields.Field):
    """Repeated and/or comma separated; empty parts are dropped."""

    is_multiple = True  # webargs' MultiDictProxy hands over every value given

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return [part.strip() for raw in values for part in str(raw).split(",") if part.strip()]


class Flag(fields.Boolean):
    """true/false in any case; the words accepted are the field's own."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(str(value).strip().lower(), attr, data, **kwargs)


class W3CDateTime(fields.Field):
    """A W3C datetime with its offset (Z or +hh:mm), or a date alone, read as a day in
    Asia/Shanghai; `end_of_day` makes a date include that whole day."""

    _DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")
    _DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        name = self.data_key or attr
        raw = str(value).strip()
        try:
            if self._DATETIME.fullmatch(raw):
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            elif self._DATE.fullmatch(raw):
                parsed = datetime.combine(date.fromisoformat(raw), dtime(0), tzinfo=SHANGHAI)
            else:
                raise ValueError(raw)
        except ValueError:
            raise ValidationError(f"{name} must be a W3C datetime with an offset, e.g. 2026-01-01T00:00:00+08:00 "
                                  f"or 2026-01-01T00:00:00Z, or a date such as 2026-01-01 (got {raw[:40]!r})") from None
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise ValidationError(f"{name} must be in the years {FIRST_YEAR} to {LAST_YEAR}")
        if self.end_of_day and self._DATE.fullmatch(raw):
            parsed += timedelta(days=1)
        return parsed


def _count(field_name: str, value: int) -> fields.Integer:
    """A positive whole number up to `value`."""
    return fields.Integer(
        data_key=field_name, strict=False,
        error_messages={"invalid": f"{field_name} must be a positive whole number"},
        validate=[validate.Range(min=1, error=f"{field_name} must be a positive whole number"),
                  validate.Range(max=value, error=f"{field_name} may be at most {value}")])


def _coordinate(name: str, limit: int) -> fields.Float:
    """Required, as a point: requests here are routed to the responsible unit by where they are."""
    between = f"{name} must be between -{limit} and {limit}"
    return fields.Float(
        data_key=name, required=True, validate=validate.Range(-limit, limit, error=between),
        error_messages={"invalid": f"{name} must be a number in WGS-84 degrees", "special": between,
                        "required": POINT_REQUIRED})


def _flag(name: str, truthy: set[str], falsy: set[str]) -> Flag:
    return Flag(data_key=name, truthy=truthy, falsy=falsy, load_default=False,
                error_messages={"invalid": f"{name} must be true or false"})


# --- schemas ----------------------------------------------------------------------------


class _Form(Schema):
    """Strips every value and drops the empty ones (a list of nothing but commas too);
    parameters it does not name are ignored."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _present(self, data, **kwargs) -> dict:
        kept = {}
        for name in data:
            value = data[name]
            if isinstance(value, list):
                value = [v.strip() for v in value if isinstance(v, str) and v.replace(",", " ").strip()]
            elif isinstance(value, str):
                value = value.strip()
            if value not in ("", []):
                kept[name] = value
        return self.narrow(kept)

    def narrow(self, data: dict) -> dict:
        """The parameters that count, once the empty ones are gone."""
        return data


class ExtensionsSchema(_Form):
    """`extensions=true` asks for our extended_attributes (and, on POST, a token)."""

    extensions = _flag("extensions", {"true", "1"}, {"false", "0"})


class RequestsQuerySchema(ExtensionsSchema):
    """GET requests.{fmt}: the filters, paging and the date range (90 days at most)."""

    ids = Listed(data_key="service_request_id", load_default=list)
    codes = Listed(data_key="service_code", load_default=list)
    statuses = Listed(data_key="status", load_default=list)
    start = W3CDateTime(data_key="start_date", load_default=None)
    end = W3CDateTime(data_key="end_date", end_of_day=True, load_default=None)
    updated_after = W3CDateTime(data_key="updated_after", load_default=None)
    page = _count("page", MAX_PAGE)
    page_size = _count("page_size", MAX_PAGE_SIZE)

    def narrow(self, data: dict) -> dict:
        """service_request_id overrides every other argument (extensions still apply)."""
        if "service_request_id" in data:
            return {k: v for k, v in data.items() if k in ("service_request_id", "extensions")}
        return data

    @validates("ids")
    def _ids(self, value: list[str], **kwargs) -> None:
        if len(value) > MAX_IDS:
            raise ValidationError(f"at most {MAX_IDS} service_request_id values at once")
        bad = next((i for i in value if not _ID.fullmatch(i)), None)
        if bad is not None:
            raise ValidationError(f"service_request_id must be numbers of at most 18 digits (got {bad[:40]!r})")

    @validates("codes")
    def _codes(self, value: list[str], **kwargs) -> None:
        if len(value) > MAX_CODES:
            raise ValidationError(f"at most {MAX_CODES} service_code values at once")
        if value:
            known = set(db.session.execute(sa.select(Category.code).where(Category.code.in_(value))).scalars())
            unknown = [f"service_code {c[:64]!r} was not found" for c in value if c not in known]
            if unknown:
                raise ValidationError(unknown)

    @validates("statuses")
    def _statuses(self, value: list[str], **kwargs) -> None:
        bad = sorted({s.lower() for s in value} - {"open", "closed"})
        if bad:
            raise ValidationError([f"status must be open or closed (got {s[:20]!r})" for s in bad])

    @post_load
    def _query(self, data: dict, **kwargs) -> RequestQuery:
        query = RequestQuery(extensions=data["extensions"])
        if data["ids"]:
            query.ids = sorted({int(i) for i in data["ids"]}, reverse=True)
            return query
        now = utcnow()
        start, end = data["start"], data["end"]
        if start is None and end is None:
            start, end = now - MAX_SPAN, now
        elif start is None:
            start = end - MAX_SPAN
        elif end is None:
            end = min(start + MAX_SPAN, max(now, start))
        if end < start:
            raise ValidationError("end_date must not be before start_date")
        if end - start > MAX_SPAN:
            raise ValidationError("start_date and end_date may not span more than 90 days")
        query.codes = data["codes"]
        query.statuses = {s.lower() for s in data["statuses"]}
        query.start, query.end, query.updated_after = start, end, data["updated_after"]
        query.page, query.page_size = data.get("page", 1), data.get("page_size", MAX_PAGE_SIZE)
        return query


class FilingSchema(_Form):
    """POST requests.{fmt}, apart from service_code (looked up first: unknown is 404) and
    media_url (checked against the key's own uploads). The personal fields (email, names,
    phone, device_id, account_id) are not named, so they are read by no one."""

    lat = _coordinate("lat", 90)
    lng = _coordinate("long", 180)
    description = fields.String(
        required=True, validate=validate.Length(max=MAX_DESCRIPTION,
                                                error=f"description may be at most {MAX_DESCRIPTION} characters"),
        error_messages={"required": "description is required: a sentence saying what the problem is"})
    address = fields.String(data_key="address_string", load_default="",
                            validate=validate.Length(max=MAX_ADDRESS,
                                                     error=f"address_string may be at most {MAX_ADDRESS} characters"))
    anonymous = _flag("attribute[anonymous]", {"true", "1", "yes"}, {"false", "0", "no"})
    media_url = fields.String(load_default="")


# --- loading ----------------------------------------------------------------------------


def _sentences(messages) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [s for value in messages.values() for s in _sentences(value)]
    return [s for value in messages for s in _sentences(value)]


def collect(schema: Schema, values) -> tuple[object, list[str]]:
    """What `schema` loads from a query string or form, and every problem it found (the
    loaded value holds only the valid fields when there are problems)."""
    try:
        return schema.load(MultiDictProxy(values, schema)), []
    except ValidationError as err:
        return err.valid_data or {}, list(dict.fromkeys(_sentences(err.messages)))


def parse(schema: Schema, values):
    """The loaded value; 400 listing every problem otherwise."""
    loaded, problems = collect(schema, values)
    if problems:
        raise Open311Error(400, *problems)
    return loaded
