"""GeoReport v2 documents: our records as the spec's fields, rendered as JSON or XML.

JSON follows the spec's examples (arrays of objects); XML uses the spec's element names
exactly (`services/service`, `service_requests/request`, `errors/error` ...), no namespace,
with an XML declaration naming UTF-8. Times are W3C datetimes in the jurisdiction's
local time with an explicit offset (+08:00).
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

from flask import Response

from ..categories.models import Category
from ..tickets import lifecycle as lc
from ..tickets.models import Ticket
from ..tickets.presenters import ACTOR_LABELS
from ..timeutil import local
from ..units.models import UNIT_KINDS

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("json", "xml")
MIME = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# XML: the element each member of a list is wrapped in, by the list's own element name.
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "media_uploads": "media_upload",
    "unit_path": "unit",
    "media_urls": "media_url",
    "timeline": "event",
}
# Characters XML 1.0 cannot carry at all; dropped so a stray control character in a
# resident's text never makes the document malformed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def w3c(value: datetime | None) -> str | None:
    """2026-11-23T18:30:00+08:00: the W3C profile of ISO 8601, always with an offset."""
    if value is None:
        return None
    return local(value).replace(microsecond=0).isoformat()


# --- fields -----------------------------------------------------------------------------


def time_limits(category: Category) -> str:
    """The category's time limits as the resident reads them, e.g. 24小时内受理，7天内办结."""
    resolve = f"{category.resolve_hours}小时" if category.resolve_hours else f"{category.resolve_days}天"
    return f"{category.respond_hours}小时内受理，{resolve}内办结"


def service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or None,
        "metadata": True,
        "type": "realtime",
        "keywords": None,
        "group": None,
    }


def service_definition(category: Category) -> dict:
    """Attributes from the category: its time limits and handling level (information,
    `variable` false) and the one input a report may add, `anonymous`."""
    level = UNIT_KINDS.get(category.handler_kind or "", "")
    handled_by = f"由事发地所在的{level}办理" if level else "由事发地所在的最基层治理单位办理"
    return {
        "service_code": category.code,
        "attributes": [
            {"variable": False, "code": "time_limit", "datatype": "string", "required": False,
             "datatype_description": None, "order": 1, "description": "办理时限：" + time_limits(category)},
            {"variable": False, "code": "handled_by", "datatype": "string", "required": False,
             "datatype_description": None, "order": 2, "description": handled_by},
            {"variable": True, "code": "anonymous", "datatype": "singlevaluelist", "required": False,
             "datatype_description": "true 或 false，默认 false", "order": 3,
             "description": "匿名反映：工作人员也看不到反映人的称呼",
             "values": [{"key": "false", "name": "实名反映"}, {"key": "true", "name": "匿名反映"}]},
        ],
    }


def is_open(ticket: Ticket) -> bool:
    return lc.Status(ticket.status) in lc.OPEN


def status_notes(ticket: Ticket, latest_public_event) -> str:
    """The latest public event's note; when it has none, the label of the state it led to."""
    if latest_public_event is not None and (latest_public_event.note or "").strip():
        return latest_public_event.note
    status = lc.Status(latest_public_event.to_status if latest_public_event is not None else ticket.status)
    return lc.STATUS_LABELS[status]


def service_request(ticket: Ticket, latest_public_event, media_url: str | None) -> dict:
    """One ticket as a GeoReport request: nothing about who reported it."""
    open_ = is_open(ticket)
    updated = ticket.updated_at if open_ else (ticket.closed_at or ticket.resolved_at or ticket.updated_at)
    return {
        "service_request_id": str(ticket.id),
        "status": "open" if open_ else "closed",
        "status_notes": status_notes(ticket, latest_public_event),
        "service_name": ticket.category.name,
        "service_code": ticket.category.code,
        "description": ticket.description,
        "agency_responsible": ticket.unit.name,
        "service_notice": time_limits(ticket.category),
        "requested_datetime": w3c(ticket.created_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": w3c(ticket.resolve_by),
        "address": ticket.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": round(ticket.lat, 7),
        "long": round(ticket.lng, 7),
        "media_url": media_url,
    }


def timeline_event(event, media_urls: list[str]) -> dict:
    """One public event of a request, as `extensions=true` lists it."""
    status = lc.Status(event.to_status)
    return {
        "action": event.action,
        "status": status.value,
        "status_label": lc.STATUS_LABELS[status],
        "actor": ACTOR_LABELS.get(event.actor_role, event.actor_role),
        "note": event.note or "",
        "datetime": w3c(event.created_at),
        "media_urls": media_urls,
    }


def extended_attributes(ticket: Ticket, unit_path: list[dict], timeline: list[dict], media_urls: list[str]) -> dict:
    """Our own fields, added with `extensions=true` (everything here is public already)."""
    status = lc.Status(ticket.status)
    rating = None
    if ticket.rating:
        rating = {"value": ticket.rating, "label": lc.RATING_LABELS.get(ticket.rating, ticket.rating),
                  "comment": ticket.rating_comment or ""}
    return {
        "status_detail": status.value,
        "status_label": lc.STATUS_LABELS[status],
        "unit_code": ticket.unit.code,
        "unit_path": unit_path,
        "overdue": ticket.overdue,
        "supporters": ticket.supporters,
        "rating": rating,
        "media_urls": media_urls,
        "timeline": timeline,
    }


def media_upload(media_id: int, media_url: str) -> dict:
    return {"media_id": str(media_id), "media_url": media_url}


CHANGESET = "2026-12-06T00:00:00+08:00"  # when this endpoint last changed in a way clients see


def discovery(base_url: str, *, contact: str, key_service: str, production: bool, rate_limit: str) -> dict:
    """Service Discovery: where the endpoint is, its formats, how to get a key, our notes."""
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base_url,
            "changeset": CHANGESET,
            "type": "production" if production else "test",
            "formats": ["text/xml", "application/json"],
        }],
        "notes": [
            "POST requests needs lat and long (WGS-84): requests are routed by their point, so address_string "
            "or address_id alone is answered 400.",
            "Every service is realtime: POST requests answers the service_request_id at once. With extensions=true "
            "it also gives a token, which tokens/{token} answers at once; any other token is 404.",
            "Extensions: page and page_size (at most 1000) and updated_after on GET requests; extensions=true adds "
            "extended_attributes (unit path, public timeline, rating); POST media.{format} (multipart file, "
            "api_key) uploads a photo whose media_url POST requests may carry.",
            f"Rate limit per api_key: {rate_limit} (429 with Retry-After)." if rate_limit
            else "No rate limit per api_key is set.",
            "Error descriptions are English; a refusal by a ticket rule adds its key and a Chinese sentence.",
        ],
    }


# --- rendering --------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item = _ITEM.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root: str, data) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def render(fmt: str, root: str, data, status: int = 200, headers: dict | None = None) -> Response:
    """`data` is what JSON answers (a list, or one object for a definition or discovery);
    XML wraps it in `root`."""
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    response = Response(body, status=status, content_type=MIME.get(fmt, MIME["json"]))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def errors(fmt: str, status: int, problems: list[tuple[int, str]], headers: dict | None = None) -> Response:
    data = [{"code": code, "description": description} for code, description in problems]
    return render(fmt, "errors", data, status, headers)
