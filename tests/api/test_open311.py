"""Open311 GeoReport v2 through the Flask test client.

Every JSON answer is validated against the official GeoReport v2 JSON Schemas
(tests/conformance/open311-georeport-v2, one `referencing` registry), errors
against the spec's list of {code, description}; every XML answer is parsed and its
element names checked against the spec's.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from server.auth.models import User
from server.extensions import db, limiter
from server.open311 import keys as o311_keys
from server.open311.models import ApiKey
from server.tickets.models import Ticket, TicketEvent
from server.timeutil import utcnow
from tests.api.helpers import IN_HQ_1_1, act, jpeg_bytes, photo, report, user_id
from tests.state import force_ticket

# The official schemas (open311/schema-validation, schema/georeport-v2/): see tests/conformance/README.md.
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "conformance" / "open311-georeport-v2"
BASE = "/open311/v2"

# --- the official schemas ---------------------------------------------------------------

_W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
formats_checked = FormatChecker()


@formats_checked.checks("date-time")
def _w3c_datetime(value) -> bool:
    """The spec's W3C datetime: an offset is required."""
    if not isinstance(value, str) or not _W3C_DATETIME.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@formats_checked.checks("uri")
def _absolute_uri(value) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in ("http", "https") and parts.netloc)


ERRORS_SCHEMA = {
    "type": "array", "minItems": 1,
    "items": {"type": "object", "required": ["code", "description"], "additionalProperties": False,
              "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}}},
}
POST_SCHEMA = {
    "type": "array", "minItems": 1,
    "items": {"type": "object", "required": ["service_request_id"],
              "properties": {"service_request_id": {"type": "string"}, "service_notice": {"type": ["string", "null"]},
                             "token": {"type": "string"}}},
}


@pytest.fixture(scope="session")
def registry():
    assert SCHEMA_DIR.is_dir(), f"the GeoReport v2 schemas are missing: {SCHEMA_DIR}"
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT4)))
    assert {name for name, _ in resources} == {"request.json", "requests.json", "service.json", "services.json",
                                                "service-definition.json"}
    return Registry().with_resources(resources)


@pytest.fixture
def valid(registry):
    """valid(res, "requests.json") -> the parsed JSON, checked against that official schema."""

    def _valid(res, schema: str | dict, status: int = 200):
        assert res.status_code == status, res.get_data(as_text=True)
        assert res.headers["Content-Type"] == "application/json; charset=utf-8"
        body = json.loads(res.get_data(as_text=True))
        spec = schema if isinstance(schema, dict) else {"$ref": schema}
        errors = sorted(Draft4Validator(spec, registry=registry, format_checker=formats_checked).iter_errors(body),
                        key=str)
        assert not errors, [e.message for e in errors]
        return body

    return _valid


def error_list(valid, res, status: int) -> list[str]:
    body = valid(res, ERRORS_SCHEMA, status)
    assert all(e["code"] == status for e in body)
    return [e["description"] for e in body]


# --- XML, element names as the spec gives them -----------------------------------------

REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_ELEMENTS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_ELEMENTS = {"variable", "code", "datatype", "required", "datatype_description", "order", "description",
                      "values"}


def xml_root(res, root: str, status: int = 200) -> ET.Element:
    assert res.status_code == status, res.get_data(as_text=True)
    assert res.headers["Content-Type"] == "text/xml; charset=utf-8"
    raw = res.get_data()
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    element = ET.fromstring(raw)
    assert element.tag == root
    return element


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def key(demo):
    _, raw = o311_keys.create_key("civic-app")
    db.session.commit()
    return raw


def file_request(client, api_key, fmt="json", headers=None, **fields):
    data = {"api_key": api_key, "service_code": "streetlight", "lat": str(IN_HQ_1_1["lat"]),
            "long": str(IN_HQ_1_1["lng"]), "description": "路灯不亮了，晚上很黑", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data=data, headers=headers or {})


def filed_id(valid, res, status=201) -> int:
    body = valid(res, POST_SCHEMA, status)
    assert len(body) == 1
    return int(body[0]["service_request_id"])


# --- discovery and services -------------------------------------------------------------


def test_discovery_json_and_xml(client, valid):
    doc = valid(client.get(f"{BASE}/"), {"type": "object", "required": ["changeset", "contact", "endpoints"]})
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert any("lat and long" in note and "address_string" in note for note in doc["notes"])
    assert client.get("/open311/discovery.json").get_json() == doc
    root = xml_root(client.get(f"{BASE}/discovery.xml"), "discovery")
    assert [c.tag for c in root][:4] == ["changeset", "contact", "key_service", "endpoints"]
    ep = root.find("endpoints/endpoint")
    assert [c.tag for c in ep] == ["specification", "url", "changeset", "type", "formats"]
    assert {f.text for f in ep.findall("formats/format")} == {"text/xml", "application/json"}


def test_services_are_the_categories_in_chinese(client, demo, valid):
    from server.categories.models import Category

    services = valid(client.get(f"{BASE}/services.json"), "services.json")
    names = dict(db.session.execute(sa.select(Category.code, Category.name).where(Category.active.is_(True))).all())
    assert {s["service_code"]: s["service_name"] for s in services} == names
    assert services[0]["service_code"] == "safety_hazard" and services[0]["service_name"] == "安全隐患"
    assert all(s["type"] == "realtime" and s["metadata"] is True for s in services)
    root = xml_root(client.get(f"{BASE}/services.xml"), "services")
    assert len(root) == len(services) and {c.tag for c in root} == {"service"}
    assert [e.tag for e in root[0]] == SERVICE_ELEMENTS
    assert root[0].findtext("service_name") == "安全隐患" and root[0].findtext("metadata") == "true"


def test_service_definition_from_the_category(client, demo, valid):
    definition = valid(client.get(f"{BASE}/services/streetlight.json"), "service-definition.json")
    assert definition["service_code"] == "streetlight"
    by_code = {a["code"]: a for a in definition["attributes"]}
    assert by_code["time_limit"]["description"] == "办理时限：24小时内受理，7天内办结"
    assert by_code["time_limit"]["variable"] is False
    assert by_code["handled_by"]["description"] == "由事发地所在的社区办理"
    assert by_code["anonymous"]["variable"] is True and by_code["anonymous"]["datatype"] == "singlevaluelist"
    assert [v["key"] for v in by_code["anonymous"]["values"]] == ["false", "true"]
    water = valid(client.get(f"{BASE}/services/water_supply.json"), "service-definition.json")
    assert water["attributes"][0]["description"] == "办理时限：2小时内受理，24小时内办结"
    root = xml_root(client.get(f"{BASE}/services/streetlight.xml"), "service_definition")
    assert [c.tag for c in root] == ["service_code", "attributes"]
    for attribute in root.findall("attributes/attribute"):
        assert {c.tag for c in attribute} <= ATTRIBUTE_ELEMENTS
    values = root.findall("attributes/attribute/values/value")
    assert [[c.tag for c in v] for v in values] == [["key", "name"], ["key", "name"]]


def test_unknown_service_is_404(client, demo, valid):
    assert "was not found" in error_list(valid, client.get(f"{BASE}/services/nope.json"), 404)[0]
    root = xml_root(client.get(f"{BASE}/services/nope.xml"), "errors", 404)
    assert [[c.tag for c in e] for e in root] == [["code", "description"]] and root.findtext("error/code") == "404"


# --- filing a request -------------------------------------------------------------------


def test_post_creates_a_routed_ticket_through_the_same_operation(client, demo, key, login, valid):
    from server.notifications.models import Notification

    res = file_request(client, key, address_string="花桥社区一区3栋旁", **{"attribute[anonymous]": "true"})
    body = valid(res, POST_SCHEMA, 201)
    assert body[0]["service_notice"] == "24小时内受理，7天内办结" and "token" not in body[0]
    ticket = db.session.get(Ticket, int(body[0]["service_request_id"]))
    assert ticket.unit.code == "gz-demo-hq-1" and ticket.triage is False and ticket.held is False
    assert ticket.address == "花桥社区一区3栋旁" and ticket.anonymous is True
    assert ticket.resolve_by - ticket.created_at == timedelta(days=7)
    reporter = db.session.get(User, ticket.reporter_id)
    api_key = db.session.execute(sa.select(ApiKey)).scalar_one()
    assert reporter.openid == f"open311:{api_key.id}" and reporter.nickname == "civic-app"
    assert reporter.from_wechat is False and api_key.user_id == reporter.id
    events = db.session.execute(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).scalars().all()
    assert [(e.action, e.actor_role) for e in events] == [("report", "reporter")]
    # The staff are told exactly as they are of a report from the mini-program.
    notified = db.session.execute(sa.select(Notification.user_id, Notification.template)
                                  .where(Notification.ticket_id == ticket.id)).all()
    mini = report(client, login("resident")).json["id"]
    from_mini = db.session.execute(sa.select(Notification.user_id, Notification.template)
                                   .where(Notification.ticket_id == mini)).all()
    assert notified and sorted(notified) == sorted(from_mini)
    # And the mini-program's public view shows it like any other report.
    public = client.get(f"/api/v1/tickets/{ticket.id}").json
    assert public["unit"]["code"] == "gz-demo-hq-1" and public["reporter"] == {"display": "匿名群众"}


def test_xml_post_answer(client, demo, key):
    root = xml_root(file_request(client, key, fmt="xml"), "service_requests", 201)
    assert [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == ["service_request_id", "service_notice"]
    assert root.findtext("request/service_request_id").isdigit()


def test_personal_fields_are_stored_nowhere_and_shown_nowhere(client, demo, key, valid):
    personal = {"email": "zhang.san@example.cn", "first_name": "Sanfeng", "last_name": "Zhangwuji",
                "phone": "13912345678", "device_id": "device-7f3a9c", "account_id": "acct-99812"}
    tid = filed_id(valid, file_request(client, key, **personal))
    db.session.expire_all()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                text = " ".join(str(v) for v in row)
                for value in personal.values():
                    assert value not in text, (table.name, value)
    assert db.session.get(User, db.session.get(Ticket, tid).reporter_id).phone_enc is None
    for path in (f"{BASE}/requests.json?extensions=true", f"{BASE}/requests/{tid}.xml?extensions=true",
                 f"/api/v1/tickets/{tid}", f"/api/v1/tickets/{tid}/events"):
        page = client.get(path).get_data(as_text=True)
        assert not any(value in page for value in personal.values())
        assert "civic-app" not in page and "open311:" not in page


def test_post_needs_a_valid_api_key(client, demo, key, valid):
    assert "api_key is required" in error_list(valid, file_request(client, None), 403)[0]
    assert "Invalid api_key" in error_list(valid, file_request(client, "o311_not-a-key"), 403)[0]
    assert error_list(valid, file_request(client, "x" * 500), 403)
    o311_keys.revoke_key("civic-app")
    db.session.commit()
    assert "Invalid api_key" in error_list(valid, file_request(client, key), 403)[0]
    root = xml_root(file_request(client, key, fmt="xml"), "errors", 403)
    assert root.findtext("error/code") == "403"
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 0


def test_post_service_code(client, demo, key, valid):
    assert error_list(valid, file_request(client, key, service_code=""), 400) == ["service_code was not provided"]
    assert "was not found" in error_list(valid, file_request(client, key, service_code="no_such"), 404)[0]


def test_address_alone_is_refused_with_a_clear_reason(client, demo, key, valid):
    res = file_request(client, key, lat=None, long=None, address_string="武汉市江岸区花桥街道")
    (description,) = error_list(valid, res, 400)
    assert "lat and long" in description and "address_string" in description
    assert error_list(valid, file_request(client, key, long=None), 400)


@pytest.mark.parametrize("fields, words", [
    ({"lat": "91"}, "lat must be between"),
    ({"long": "-180.5"}, "long must be between"),
    ({"lat": "abc"}, "lat must be a number"),
    ({"lat": "nan"}, "lat must be between"),
    ({"long": "inf"}, "long must be between"),
    ({"lat": "1" * 400}, "lat must be between"),
    ({"long": "-1e400"}, "long must be between"),
    ({"lat": "0x1e"}, "lat must be a number"),
    ({"long": "9" * 5000}, "long must be between"),
    ({"description": ""}, "description is required"),
    ({"description": "长" * 4001}, "at most 4000"),
    ({"address_string": "x" * 256}, "address_string may be at most 255"),
    ({"attribute[anonymous]": "maybe"}, "attribute[anonymous] must be true or false"),
    ({"media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"}, "media_url must be a URL"),
    ({"media_url": "http://localhost/media/aa/bb/not-mine.jpg"}, "media_url must be a URL"),
])
def test_post_bad_input_is_400(client, demo, key, valid, fields, words):
    descriptions = error_list(valid, file_request(client, key, **fields), 400)
    assert any(words in d for d in descriptions), descriptions
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 0


def test_every_problem_is_listed_at_once(client, demo, key, valid):
    res = file_request(client, key, lat="abc", long="500", description="", **{"attribute[anonymous]": "x"})
    assert len(error_list(valid, res, 400)) == 4


def test_a_description_of_4000_characters_is_accepted(client, demo, key, valid):
    tid = filed_id(valid, file_request(client, key, description="长" * 4000))
    assert len(db.session.get(Ticket, tid).description) == 4000


def test_idempotency_key_makes_one_ticket(client, demo, key, valid):
    h = {"Idempotency-Key": "civic-retry-0001"}
    first = filed_id(valid, file_request(client, key, headers=h))
    assert filed_id(valid, file_request(client, key, headers=h), 200) == first
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 1
    assert error_list(valid, file_request(client, key, headers={"Idempotency-Key": "bad key!"}), 400)
    assert "idempotency_key_reused" in error_list(valid, file_request(client, key, headers=h, description="另一件事"),
                                                  400)[0]


def test_outside_every_boundary_goes_to_triage(client, demo, key, valid):
    tid = filed_id(valid, file_request(client, key, lat="39.9", long="116.4"))
    t = db.session.get(Ticket, tid)
    assert t.triage is True and t.unit.code == "gz-demo"


# --- media ------------------------------------------------------------------------------


def upload(client, api_key, data=None, fmt="json"):
    return client.post(f"{BASE}/media.{fmt}", data={"api_key": api_key, "file": (io.BytesIO(data or jpeg_bytes()),
                                                                                   "p.jpg")},
                       content_type="multipart/form-data")


def test_media_upload_then_media_url(client, demo, key, valid):
    uploaded = valid(upload(client, key), {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["media_id", "media_url"],
        "properties": {"media_id": {"type": "string"}, "media_url": {"type": "string", "format": "uri"}}}}, 201)
    media_url = uploaded[0]["media_url"]
    tid = filed_id(valid, file_request(client, key, media_url=media_url))
    (row,) = valid(client.get(f"{BASE}/requests/{tid}.json"), "requests.json")
    # Unsigned once the request is public: the same address, without the signature a new upload had.
    assert row["media_url"] == media_url.split("?")[0]
    assert client.get(urlsplit(media_url).path).status_code == 200
    # A photo is used once.
    assert "media_url must be a URL" in error_list(valid, file_request(client, key, media_url=media_url), 400)[0]
    # Another key cannot use this key's uploads.
    _, other = o311_keys.create_key("other-app")
    db.session.commit()
    second = valid(upload(client, key), {"type": "array"}, 201)[0]["media_url"]
    assert error_list(valid, file_request(client, other, media_url=second), 400)


def test_media_upload_errors(client, demo, key, valid):
    assert error_list(valid, client.post(f"{BASE}/media.json", data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg")},
                                         content_type="multipart/form-data"), 403)
    assert "file is required" in error_list(valid, client.post(f"{BASE}/media.json", data={"api_key": key}), 400)[0]
    assert error_list(valid, upload(client, key, data=b"not an image at all"), 400)
    root = xml_root(upload(client, key, fmt="xml"), "media_uploads", 201)
    assert [c.tag for c in root[0]] == ["media_id", "media_url"]


# --- reading requests -------------------------------------------------------------------


def test_requests_list_json_and_xml(client, demo, key, valid):
    ids = [filed_id(valid, file_request(client, key)) for _ in range(3)]
    rows = valid(client.get(f"{BASE}/requests.json"), "requests.json")
    assert [r["service_request_id"] for r in rows] == [str(i) for i in reversed(ids)]
    row = rows[0]
    assert list(row) == REQUEST_ELEMENTS
    assert row["status"] == "open" and row["status_notes"] == "待受理"
    assert row["service_name"] == "路灯损坏" and row["agency_responsible"] == "花桥社区"
    assert row["lat"] == IN_HQ_1_1["lat"] and row["long"] == IN_HQ_1_1["lng"]
    requested = datetime.fromisoformat(row["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert datetime.fromisoformat(row["expected_datetime"]) - requested == timedelta(days=7)
    root = xml_root(client.get(f"{BASE}/requests.xml"), "service_requests")
    assert {c.tag for c in root} == {"request"} and len(root) == 3
    for request in root:
        assert [c.tag for c in request] == REQUEST_ELEMENTS
    assert root.findtext("request/status") == "open" and root.findtext("request/lat") == str(IN_HQ_1_1["lat"])


def test_one_request_json_xml_and_404(client, demo, key, valid):
    tid = filed_id(valid, file_request(client, key))
    (row,) = valid(client.get(f"{BASE}/requests/{tid}.json"), "requests.json")
    assert row["service_request_id"] == str(tid)
    root = xml_root(client.get(f"{BASE}/requests/{tid}.xml"), "service_requests")
    assert [c.tag for c in root[0]] == REQUEST_ELEMENTS
    for missing in (str(tid + 1000), "abc", "1.5", "9" * 30):
        assert "was not found" in error_list(valid, client.get(f"{BASE}/requests/{missing}.json"), 404)[0]


def test_status_follows_the_lifecycle(client, demo, key, login, valid):
    grid, cadre = login("grid"), login("cadre")
    tid = filed_id(valid, file_request(client, key))

    def current():
        (row,) = valid(client.get(f"{BASE}/requests/{tid}.json"), "requests.json")
        return row

    act(client, grid, tid, "accept", note="已收到，马上处理")
    assert (current()["status"], current()["status_notes"]) == ("open", "已收到，马上处理")
    act(client, cadre, tid, "assign", assignee_id=user_id(client, cadre))
    assert (current()["status"], current()["status_notes"]) == ("open", "已派单")
    act(client, cadre, tid, "progress", note="内部：等供电所排期", public=False)
    assert current()["status_notes"] == "已派单"                      # an internal note never shows
    act(client, cadre, tid, "resolve", note="已更换灯泡", media=[photo(client, cadre)])
    row = current()
    assert (row["status"], row["status_notes"]) == ("closed", "已更换灯泡")
    resolved_at = db.session.get(Ticket, tid).resolved_at
    assert datetime.fromisoformat(row["updated_datetime"]) == resolved_at.replace(microsecond=0)
    closed = valid(client.get(f"{BASE}/requests.json?status=closed"), "requests.json")
    assert [r["service_request_id"] for r in closed] == [str(tid)]
    assert valid(client.get(f"{BASE}/requests.json?status=open"), "requests.json") == []


def test_returned_and_withdrawn_are_closed(client, demo, key, login, valid):
    grid, resident = login("grid"), login("resident")
    returned = filed_id(valid, file_request(client, key))
    act(client, grid, returned, "return", reason="out_of_scope", note="不属于本社区管辖")
    withdrawn = report(client, resident).json["id"]
    act(client, resident, withdrawn, "withdraw")
    rows = {r["service_request_id"]: r for r in valid(client.get(f"{BASE}/requests.json"), "requests.json")}
    assert rows[str(returned)]["status"] == "closed" and rows[str(returned)]["status_notes"] == "不属于本社区管辖"
    assert rows[str(withdrawn)]["status"] == "closed" and rows[str(withdrawn)]["status_notes"] == "已撤回"


def test_held_tickets_never_appear(client, demo, key, valid):
    shown = filed_id(valid, file_request(client, key, **{"extensions": "true"}))
    res = file_request(client, key, extensions="true")
    held = filed_id(valid, res)
    token = res.get_json()[0]["token"]
    force_ticket(held, held=True)
    db.session.commit()
    listed = [r["service_request_id"] for r in valid(client.get(f"{BASE}/requests.json"), "requests.json")]
    assert listed == [str(shown)]
    by_ids = valid(client.get(f"{BASE}/requests.json?service_request_id={shown},{held}"), "requests.json")
    assert [r["service_request_id"] for r in by_ids] == [str(shown)]
    assert error_list(valid, client.get(f"{BASE}/requests/{held}.json"), 404)
    assert error_list(valid, client.get(f"{BASE}/tokens/{token}.json"), 404)
    root = xml_root(client.get(f"{BASE}/requests.xml?extensions=true"), "service_requests")
    assert [r.findtext("service_request_id") for r in root] == [str(shown)]


def test_filters(client, demo, key, valid):
    light = filed_id(valid, file_request(client, key))
    water = filed_id(valid, file_request(client, key, service_code="water_supply"))
    noise = filed_id(valid, file_request(client, key, service_code="noise"))

    def ids(query):
        return [int(r["service_request_id"]) for r in valid(client.get(f"{BASE}/requests.json?{query}"), "requests.json")]

    assert ids("service_code=streetlight") == [light]
    assert ids("service_code=streetlight,water_supply") == [water, light]
    assert ids("service_code=streetlight&service_code=noise") == [noise, light]
    assert ids(f"service_request_id={light},{noise},987654") == [noise, light]
    # service_request_id overrides every other argument.
    assert ids(f"service_request_id={light}&service_code=noise&status=closed") == [light]
    assert ids("status=open,closed") == [noise, water, light]
    assert ids("status=&service_code=&start_date=") == [noise, water, light]   # empty means absent
    assert ids("service_request_id=&service_request_id=,&service_code=noise") == [noise]
    assert ids("jurisdiction_id=anything.example") == [noise, water, light]


def test_date_range(client, demo, key, valid):
    old = filed_id(valid, file_request(client, key))
    recent = filed_id(valid, file_request(client, key))
    force_ticket(old, created_at=utcnow() - timedelta(days=100))
    db.session.commit()

    def ids(query):
        return [int(r["service_request_id"]) for r in valid(client.get(f"{BASE}/requests.json?{query}"), "requests.json")]

    assert ids("") == [recent]                                          # the last 90 days by default
    start = (datetime.now(timezone.utc) - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"start_date={start}") == [old]                          # 90 days from start_date
    end = (datetime.now(timezone.utc) - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert ids(f"end_date={end.replace('+', '%2B')}") == [old]          # 90 days up to end_date
    day = (datetime.now(timezone(timedelta(hours=8)))).strftime("%Y-%m-%d")
    assert ids(f"start_date={day}&end_date={day}") == [recent]          # dates: whole days in +08:00
    assert ids(f"start_date={start}&end_date={end.replace('+', '%2B')}") == [old]


@pytest.mark.parametrize("query, status, words", [
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:01Z", 400, "90 days"),
    ("start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", 400, "must not be before"),
    ("start_date=yesterday", 400, "W3C datetime"),
    ("start_date=2026-01-01T00:00:00", 400, "with an offset"),                 # no offset
    ("end_date=2026-13-45", 400, "W3C datetime"),
    ("start_date=2026-02-30T00:00:00Z", 400, "W3C datetime"),
    ("status=pending", 400, "status must be open or closed"),
    ("service_code=nope", 400, "service_code 'nope' was not found"),
    ("service_request_id=abc", 400, "service_request_id must be numbers"),
    ("service_request_id=" + ",".join(str(i) for i in range(1, 1003)), 400, "at most 1000"),
    ("page_size=1001", 400, "page_size may be at most 1000"),
    ("page_size=0", 400, "page_size must be a positive"),
    ("page=-1", 400, "page must be a positive"),
    ("page=x", 400, "page must be a positive"),
    ("page=1.5", 400, "page must be a positive"),
    ("page=²", 400, "page must be a positive"),
    ("page=99999999999999999999", 400, "page may be at most 1000000"),               # beyond 64 bits
    ("page=" + "9" * 5000, 400, "page must be a positive"),                         # beyond int()'s digits
    ("page_size=18446744073709551617", 400, "page_size may be at most 1000"),
    ("start_date=0001-01-01T00:00:00%2B08:00", 400, "in the years 2000 to 2099"),    # year 1: before UTC's year 1
    ("start_date=0001-01-01", 400, "in the years 2000 to 2099"),
    ("end_date=9999-12-31", 400, "in the years 2000 to 2099"),                      # a whole day past year 9999
    ("end_date=9999-12-31T23:59:59-08:00", 400, "in the years 2000 to 2099"),
    ("start_date=2100-01-01T00:00:00%2B08:00", 400, "in the years 2000 to 2099"),
    ("updated_after=0001-01-01T00:00:00Z", 400, "updated_after must be in the years"),
    ("updated_after=9999-12-31T23:59:59Z", 400, "updated_after must be in the years"),
    ("updated_after=yesterday", 400, "updated_after must be a W3C datetime"),
    ("service_request_id=" + "9" * 19, 400, "service_request_id must be numbers"),
    ("extensions=maybe", 400, "extensions must be true or false"),
    ("api_key=wrong", 403, "Invalid api_key"),
])
def test_bad_queries_get_the_spec_error_list(client, demo, valid, query, status, words):
    descriptions = error_list(valid, client.get(f"{BASE}/requests.json?{query}"), status)
    assert any(words in d for d in descriptions), descriptions
    root = xml_root(client.get(f"{BASE}/requests.xml?{query}"), "errors", status)
    assert [[c.tag for c in e] for e in root][0] == ["code", "description"]


@pytest.mark.parametrize("query", ["start_date=2000-01-01", "end_date=2000-01-01", "start_date=2099-12-31",
                                   "end_date=2099-12-31", "start_date=2099-12-31T23:59:59-12:00",
                                   "end_date=2000-01-01T00:00:00Z", "updated_after=2099-12-31T23:59:59Z",
                                   "page=1000000&page_size=1000"])
def test_the_edges_of_the_ranges_are_answered(client, demo, valid, query):
    assert valid(client.get(f"{BASE}/requests.json?{query}"), "requests.json") == []


def test_updated_after(client, demo, key, valid):
    stale, fresh = filed_id(valid, file_request(client, key)), filed_id(valid, file_request(client, key))
    force_ticket(stale, updated_at=utcnow() - timedelta(days=10))
    db.session.commit()

    def ids(query):
        rows = valid(client.get(f"{BASE}/requests.json?{query}"), "requests.json")
        return [int(r["service_request_id"]) for r in rows]

    assert ids("") == [fresh, stale]
    since = (datetime.now(timezone.utc) - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"updated_after={since}") == [fresh]
    assert ids(f"updated_after={since}&service_request_id={stale}") == [stale]     # ids override it too
    day = (datetime.now(timezone(timedelta(hours=8))) - timedelta(days=20)).strftime("%Y-%m-%d")
    assert ids(f"updated_after={day}") == [fresh, stale]


_ODD = ["", " ", "0", "-1", "1e9", "9" * 19, "9" * 30, "9" * 5000, "nan", "-inf", "²", "١", "\x00", "0001-01-01",
        "9999-12-31", "2026-02-29", "2024-02-29T24:00:00Z", "2026-01-01T00:00:00+99:99", "2026-01-01T00:00:60Z",
        "TRUE", ",,,", "%", "💥" * 300]


def test_no_value_of_any_parameter_is_a_500(client, demo, key, monkeypatch):
    monkeypatch.setitem(client.application.config, "OPEN311_RATE_LIMIT", "0")
    answers = set()
    for name in ("page", "page_size", "start_date", "end_date", "updated_after", "service_request_id",
                 "service_code", "status", "extensions"):
        for value in _ODD:
            answers.add((name, client.get(f"{BASE}/requests.json", query_string={name: value}).status_code))
    for name in ("lat", "long", "description", "address_string", "attribute[anonymous]", "media_url", "extensions"):
        for value in _ODD:
            answers.add((name, file_request(client, key, **{name: value}).status_code))
    assert not [a for a in answers if a[1] not in (200, 201, 400)]


def test_unknown_paths_and_methods(client, valid):
    assert error_list(valid, client.get(f"{BASE}/nothing.json"), 404)
    assert error_list(valid, client.get(f"{BASE}/requests.csv"), 404)
    xml_root(client.get(f"{BASE}/nothing.xml"), "errors", 404)
    assert "use GET or POST" in error_list(valid, client.put(f"{BASE}/requests.json"), 400)[0]
    assert "use GET" in error_list(valid, client.delete(f"{BASE}/services.json"), 400)[0]


def test_several_problems_in_one_query(client, demo, valid):
    res = client.get(f"{BASE}/requests.json?status=x&page_size=5000&start_date=never&service_code=nope")
    assert len(error_list(valid, res, 400)) == 4


def test_pages(client, demo, key, valid):
    ids = [filed_id(valid, file_request(client, key)) for _ in range(5)]
    first = client.get(f"{BASE}/requests.json?page_size=2")
    assert [int(r["service_request_id"]) for r in valid(first, "requests.json")] == ids[::-1][:2]
    link = first.headers["Link"]
    assert 'rel="next"' in link and "page=2" in link and "page_size=2" in link
    third = client.get(f"{BASE}/requests.json?page_size=2&page=3")
    assert [int(r["service_request_id"]) for r in valid(third, "requests.json")] == [ids[0]]
    assert "Link" not in third.headers
    assert valid(client.get(f"{BASE}/requests.json?page_size=2&page=9"), "requests.json") == []


def test_list_queries_do_not_grow_with_rows(client, demo, key, valid):
    for _ in range(3):
        filed_id(valid, file_request(client, key, media_url=valid(upload(client, key), {"type": "array"}, 201)[0]["media_url"]))
    counts = []
    for extra in range(2):
        if extra:
            for _ in range(4):
                filed_id(valid, file_request(client, key))
        statements = []

        def collect(conn, cursor, statement, *rest):
            statements.append(statement)  # noqa: B023 (this iteration's list, unhooked below)

        sa.event.listen(db.engine, "before_cursor_execute", collect)
        try:
            valid(client.get(f"{BASE}/requests.json?extensions=true"), "requests.json")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", collect)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# --- extensions and tokens --------------------------------------------------------------


def test_extensions_add_unit_path_timeline_and_rating(client, demo, login, valid):
    resident, grid = login("resident"), login("grid")
    tid = report(client, resident, media=[photo(client, resident)]).json["id"]
    act(client, grid, tid, "accept", note="收到")
    act(client, grid, tid, "resolve", note="已修好", media=[photo(client, grid)])
    act(client, resident, tid, "rate", rating="satisfied", comment="很快，谢谢")
    plain = valid(client.get(f"{BASE}/requests/{tid}.json"), "requests.json")[0]
    assert "extended_attributes" not in plain
    assert plain["status"] == "closed" and plain["status_notes"] == "很快，谢谢"
    row = valid(client.get(f"{BASE}/requests/{tid}.json?extensions=true"), "requests.json")[0]
    ext = row["extended_attributes"]
    assert [u["name"] for u in ext["unit_path"]] == ["共治示范区", "花桥街道", "花桥社区"]
    assert ext["status_detail"] == "closed" and ext["status_label"] == "已关闭"
    assert ext["rating"] == {"value": "satisfied", "label": "满意", "comment": "很快，谢谢"}
    assert [e["action"] for e in ext["timeline"]] == ["report", "accept", "resolve", "rate"]
    assert ext["timeline"][0]["actor"] == "反映人" and ext["timeline"][1]["actor"] == "网格员"
    assert len(ext["timeline"][2]["media_urls"]) == 1 and ext["media_urls"] == [row["media_url"]]
    assert "居民刘阿姨" not in json.dumps(ext, ensure_ascii=False)       # no names in the public timeline
    root = xml_root(client.get(f"{BASE}/requests/{tid}.xml?extensions=true"), "service_requests")
    ext_xml = root.find("request/extended_attributes")
    assert [u.findtext("name") for u in ext_xml.findall("unit_path/unit")] == ["共治示范区", "花桥街道", "花桥社区"]
    assert [e.findtext("action") for e in ext_xml.findall("timeline/event")] == ["report", "accept", "resolve", "rate"]
    assert ext_xml.findtext("rating/label") == "满意"


def test_tokens(client, demo, key, valid):
    res = file_request(client, key, extensions="true")
    body = valid(res, POST_SCHEMA, 201)
    token, tid = body[0]["token"], body[0]["service_request_id"]
    answer = valid(client.get(f"{BASE}/tokens/{token}.json"), {"type": "array", "items": {
        "type": "object", "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}}}})
    assert answer == [{"service_request_id": tid, "token": token}]
    root = xml_root(client.get(f"{BASE}/tokens/{token}.xml"), "service_requests")
    assert [c.tag for c in root[0]] == ["service_request_id", "token"]
    forged = f"{tid}-{'0' * 20}"
    for bad in (forged, "12345", tid, "x" * 300):
        assert error_list(valid, client.get(f"{BASE}/tokens/{bad}.json"), 404) == ["token was not found"]


# --- XML safety -------------------------------------------------------------------------


def test_xml_stays_well_formed_with_odd_text(client, demo, key, valid):
    tid = filed_id(valid, file_request(client, key, description="灯<坏>了 & \"很黑\" \x0b\x01 ]]> 🌃"))
    root = xml_root(client.get(f"{BASE}/requests/{tid}.xml"), "service_requests")
    assert root.findtext("request/description") == "灯<坏>了 & \"很黑\"  ]]> 🌃"
    (row,) = valid(client.get(f"{BASE}/requests/{tid}.json"), "requests.json")
    assert row["description"].startswith("灯<坏>了 & \"很黑\"")


# --- jurisdiction -----------------------------------------------------------------------


def test_jurisdiction_id(client, demo, key, valid, monkeypatch):
    monkeypatch.setitem(client.application.config, "OPEN311_JURISDICTION_ID", "gz-demo.gov.cn")
    valid(client.get(f"{BASE}/services.json?jurisdiction_id=gz-demo.gov.cn"), "services.json")
    valid(client.get(f"{BASE}/services.json"), "services.json")
    assert "jurisdiction_id" in error_list(valid, client.get(f"{BASE}/services.json?jurisdiction_id=sfgov.org"), 404)[0]
    assert error_list(valid, file_request(client, key, jurisdiction_id="sfgov.org"), 404)
    filed_id(valid, file_request(client, key, jurisdiction_id="gz-demo.gov.cn"))


# --- rate limit -------------------------------------------------------------------------


def test_rate_limit_per_key(client, demo, key, valid, monkeypatch):
    monkeypatch.setitem(client.application.config, "OPEN311_RATE_LIMIT", 3)       # a number: per minute
    for _ in range(3):
        valid(client.get(f"{BASE}/services.json?api_key={key}"), "services.json")
    res = client.get(f"{BASE}/services.json?api_key={key}")
    (description,) = error_list(valid, res, 429)
    assert description.startswith("Rate limit exceeded for this api_key (3 per 1 minute); retry after ")
    assert 1 <= int(res.headers["Retry-After"]) <= 60
    assert error_list(valid, file_request(client, key), 429)                 # posts count against the same key
    root = xml_root(client.get(f"{BASE}/requests.xml?api_key={key}"), "errors", 429)
    assert root.findtext("error/code") == "429" and root.findtext("error/description").startswith("Rate limit")
    valid(client.get(f"{BASE}/services.json"), "services.json")              # no key, no per-key limit
    assert error_list(valid, client.get(f"{BASE}/services.json?api_key=o311_wrong"), 403)  # a wrong key is 403
    _, other = o311_keys.create_key("other-app")
    db.session.commit()
    valid(client.get(f"{BASE}/services.json?api_key={other}"), "services.json")


class _Clock:
    """The time module as `limits`' memory storage sees it, moved on by `ahead` seconds."""

    def __init__(self):
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead

    def __getattr__(self, name):
        return getattr(time, name)


def test_an_hourly_limit_counts_per_hour_and_each_key_apart(client, demo, key, valid, monkeypatch):
    import limits.storage.memory

    monkeypatch.setitem(client.application.config, "OPEN311_RATE_LIMIT", "2/hour")
    clock = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    _, other = o311_keys.create_key("other-app")
    db.session.commit()
    valid(client.get(f"{BASE}/services.json?api_key={key}"), "services.json")
    filed_id(valid, file_request(client, key))
    res = client.get(f"{BASE}/services.json?api_key={key}")
    assert "2 per 1 hour" in error_list(valid, res, 429)[0]
    assert 60 < int(res.headers["Retry-After"]) <= 3600
    clock.ahead = 61                                                        # a minute on: still this hour
    assert error_list(valid, client.get(f"{BASE}/services.json?api_key={key}"), 429)
    for _ in range(2):                                                      # the other key counts apart
        valid(client.get(f"{BASE}/services.json?api_key={other}"), "services.json")
    assert error_list(valid, client.get(f"{BASE}/services.json?api_key={other}"), 429)
    clock.ahead = 3601                                                      # an hour on: allowed again
    valid(client.get(f"{BASE}/services.json?api_key={key}"), "services.json")
    doc = client.get(f"{BASE}/discovery.json").get_json()
    assert "Rate limit per api_key: 2 per 1 hour (429 with Retry-After)." in doc["notes"]


@pytest.mark.parametrize("setting, note", [
    ("60", "Rate limit per api_key: 60 per 1 minute (429 with Retry-After)."),
    ("60/hour", "Rate limit per api_key: 60 per 1 hour (429 with Retry-After)."),
    ("100/minute;1000/day", "Rate limit per api_key: 100 per 1 minute; 1000 per 1 day (429 with Retry-After)."),
    ("0", "No rate limit per api_key is set."),
    ("sixty", "Rate limit per api_key: 60 per 1 minute (429 with Retry-After)."),      # unreadable: the default
    ("0/hour", "Rate limit per api_key: 60 per 1 minute (429 with Retry-After)."),
])
def test_the_limit_setting_as_discovery_tells_it(client, setting, note, monkeypatch):
    monkeypatch.setitem(client.application.config, "OPEN311_RATE_LIMIT", setting)
    assert note in client.get(f"{BASE}/discovery.json").get_json()["notes"]


def test_no_limit_when_set_to_zero(client, demo, key, valid, monkeypatch):
    monkeypatch.setitem(client.application.config, "OPEN311_RATE_LIMIT", "0")
    for _ in range(5):
        valid(client.get(f"{BASE}/services.json?api_key={key}"), "services.json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url():
    server = "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_rate_limit_counts_in_redis_when_configured(app, demo, key, valid, redis_url, tmp_path):
    """With Redis as the limiter's storage, every worker shares one hourly count per key."""
    import redis

    from server import create_app
    from server.config import TestConfig

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
    config.MEDIA_ROOT = str(tmp_path)
    config.RATELIMIT_STORAGE_URI = redis_url
    config.OPEN311_RATE_LIMIT = "2/hour"
    with_redis = create_app(config)
    try:
        client = with_redis.test_client()
        for _ in range(2):
            valid(client.get(f"{BASE}/services.json?api_key={key}"), "services.json")
        assert error_list(valid, client.get(f"{BASE}/services.json?api_key={key}"), 429)
        store = redis.Redis.from_url(redis_url)
        (counter,) = store.keys("*open311-key*")
        assert 3500 < store.ttl(counter) <= 3600                            # counted per hour, not per minute
    finally:
        limiter.init_app(app)  # the suite's app (and its storage) again
        limiter.reset()


# --- the command line -------------------------------------------------------------------


def test_keys_cli(client, demo, valid):
    runner = client.application.test_cli_runner()
    res = runner.invoke(args=["open311", "keys", "create", "街道网格App"])
    assert res.exit_code == 0, res.output
    raw = res.stdout.strip()
    assert raw.startswith("o311_") and len(raw) > 40
    key = db.session.execute(sa.select(ApiKey)).scalar_one()
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    with db.engine.connect() as conn:
        assert raw not in str(conn.execute(sa.text("SELECT * FROM open311_api_keys")).all())
    filed_id(valid, file_request(client, raw))
    assert runner.invoke(args=["open311", "keys", "create", "街道网格App"]).exit_code == 1
    listed = runner.invoke(args=["open311", "keys", "list"]).stdout
    assert "街道网格App\tactive" in listed and raw not in listed
    assert runner.invoke(args=["open311", "keys", "revoke", "街道网格App"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["open311", "keys", "list"]).stdout
    assert error_list(valid, file_request(client, raw), 403)
    assert runner.invoke(args=["open311", "keys", "revoke", "no-such"]).exit_code == 1
