"""Input at the edges, on every endpoint of the OpenAPI document: text that cannot be stored
(NUL, lone surrogates, very long), numbers beyond every column and beyond Python's
conversion limit, times in year 1 or 9999 with any offset, bodies nested very deep. Each
answer is a 4xx or a success in the one envelope, never a 5xx, before login as after (a
resident, and staff of the demo district)."""
import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.extensions import db

EDGE_TEXT = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "路" * 5000, "0" * 5000, "%00", "\u202e", "NaN", "-1",
    "9" * 30, "true", "null", "[]", "{}", "../../etc/passwd", "<x/>", "'; --",
])
EDGE_NUMBERS = st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 2**64, 10**30, "<digits>", 1e308, -1e308, 0.5,
                                30.57, 114.27, 91, -181])
EDGE_TIMES = st.builds(
    lambda year, sign, hours, minutes: f"{year:04d}-01-01T00:00:00{sign}{hours:02d}:{minutes:02d}",
    st.sampled_from([1, 1970, 2026, 9999]), st.sampled_from(["+", "-"]), st.integers(0, 23), st.integers(0, 59),
) | st.sampled_from(["0001-01-01", "9999-12-31T23:59:59Z", "2026-13-01", "2026-02-30T00:00:00Z", "now"])
EDGE_VALUE = st.one_of(EDGE_TEXT, EDGE_NUMBERS, EDGE_TIMES, st.booleans(), st.none(),
                       st.lists(EDGE_NUMBERS, max_size=3), st.just([[[[1]]]]))


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    found = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method, path, op))
    return found


def _resolve(spec, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema or {}


def _field_names(spec, op) -> tuple[list[str], list[str]]:
    query = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
    body = _resolve(spec, op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
    return query, list((body.get("properties") or {}).keys())


def _path(path: str, ids: list[int]) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(ids.pop(0) if ids else 1), path)


HUGE = "9" * 5000  # digits past Python's int conversion limit, written into the body as a number


def _dumps(value) -> str:
    """JSON as a careless client writes it: surrogates and NUL escaped, huge numbers as digits."""
    return json.dumps(value, ensure_ascii=True).replace('"<digits>"', HUGE)


@pytest.fixture
def world(client, demo, login):
    spec = client.get("/api/openapi.json").json
    headers = [{}, login("edge-resident"), login("cadre")]
    return spec, headers


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_no_input_at_the_edges_gets_a_5xx(client, world, data):
    spec, headers = world
    method, path, op = data.draw(st.sampled_from([o for o in _operations(spec) if "{" not in o[1] or "id" in o[1]]))
    query_names, body_names = _field_names(spec, op)
    ids = data.draw(st.lists(st.sampled_from([1, 0, 2**31 - 1, 2**31, 2**64]), min_size=2, max_size=2))
    query = {name: data.draw(st.one_of(EDGE_TEXT, EDGE_TIMES, EDGE_NUMBERS.map(lambda n: HUGE if n == "<digits>" else str(n))))
             for name in query_names
             if data.draw(st.booleans())}
    body = {name: data.draw(EDGE_VALUE) for name in body_names if data.draw(st.booleans())}
    who = data.draw(st.sampled_from(headers))
    url = _path(path, ids)
    # As bytes on the wire: a lone surrogate goes as the three bytes a careless encoder writes.
    query = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in query.items())
    if method == "get":
        res = client.get(url, query_string=query, headers=who)
    else:
        res = client.open(url, method=method.upper(), query_string=query, data=_dumps(body),
                          content_type="application/json", headers=who)
    assert res.status_code < 500, (method, url, query, body, res.get_data(as_text=True)[:300])
    if res.status_code >= 400 and res.is_json:
        assert {"code", "status", "message", "errors"} <= set(res.json), res.json
    db.session.rollback()


@pytest.mark.parametrize("raw", [
    "[" * 100_000 + "]" * 100_000,
    '{"code": ' + "[" * 40 + "]" * 40 + "}",
    '{"code": 123456789012345678901234567890}',
    '{"code": ' + "9" * 5000 + "}",
    '{"code": "dev:\\ud800"}',
    '{"code": "dev:a\\u0000b"}',
    '{"code": NaN}',
    b'{"code": "\xff\xfe"}',
])
@pytest.mark.parametrize("logged_in", [False, True])
def test_bodies_that_cannot_be_stored_are_refused_before_and_after_login(client, login, raw, logged_in):
    headers = login("edge-body") if logged_in else {}
    for url in ("/api/v1/auth/login", "/api/v1/tickets", "/api/v1/me/consent"):
        res = client.post(url, data=raw, content_type="application/json", headers=headers)
        assert res.status_code in (400, 401, 422), (url, res.status_code, res.get_data(as_text=True)[:200])
        assert {"code", "status", "message", "errors"} <= set(res.json)


def test_nul_in_a_query_string_is_refused(client, login):
    res = client.get("/api/v1/tickets", query_string={"cursor": "a\x00b"}, headers=login("edge-query"))
    assert res.status_code == 400 and res.json["message"] == "invalid_text"


@pytest.mark.parametrize("due_at", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "9999-12-31T00:00:00Z",
                                    "2000-01-01T00:00:00+08:00", "2099-01-01T00:00:00+08:00"])
def test_a_deadline_at_the_edge_of_the_calendar_is_refused_and_stores_nothing(client, demo, login, due_at):
    from tests.api.helpers import act, report, user_id

    resident, cadre = login("edge-deadline"), login("cadre")
    tid = report(client, resident).json["id"]
    act(client, login("grid"), tid, "accept")
    res = act(client, cadre, tid, "assign", assignee_id=user_id(client, cadre), due_at=due_at)
    assert res.status_code == 422 and res.json["message"] in ("invalid_due_at", "validation_error"), res.json
    shown = client.get(f"/api/v1/tickets/{tid}", headers=cadre)
    assert shown.status_code == 200 and shown.json["status"] == "accepted"
