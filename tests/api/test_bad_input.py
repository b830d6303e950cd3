"""Bad input gets a 4xx in the one envelope, never a 500."""
import pytest


def _assert_envelope(res, status):
    assert res.status_code == status, res.get_data(as_text=True)
    body = res.json
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["code"] == status and body["errors"]["detail"]


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"),
    ("", "application/json"),
    ("[1, 2]", "application/json"),
    ('"code"', "application/json"),
    ("code=abc", "application/x-www-form-urlencoded"),
])
def test_malformed_login_bodies(client, data, content_type):
    res = client.post("/api/v1/auth/login", data=data, content_type=content_type)
    assert 400 <= res.status_code < 500
    _assert_envelope(res, res.status_code)


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 123}, {"code": None}, {"code": ["a"]},
                                  {"code": "x" * 500}, {"code": "dev:a", "extra": 1}])
def test_login_field_errors_are_422(client, body):
    res = client.post("/api/v1/auth/login", json=body)
    _assert_envelope(res, 422)
    assert res.json["message"] == "validation_error"


def test_huge_body_is_413(client):
    res = client.post("/api/v1/auth/login", data=b"{" + b" " * (12 * 1024 * 1024) + b"}", content_type="application/json")
    _assert_envelope(res, 413)


@pytest.mark.parametrize("query", ["lat=91&lng=114", "lat=30&lng=181", "lat=abc&lng=114", "lat=30", "lat=30&lng=114&coord=bd09",
                                   "lat=nan&lng=114", "lat=30&lng=inf"])
def test_locate_bad_coordinates(client, demo, query):
    res = client.get(f"/api/v1/units/locate?{query}")
    _assert_envelope(res, 422)


@pytest.mark.parametrize("query", ["cursor=%%%", "cursor=WzEsMl0", "limit=0", "limit=100000", "parent_id=-1", "kind=planet"])
def test_unit_list_bad_query(client, query):
    res = client.get(f"/api/v1/units?{query}")
    assert res.status_code in (400, 422)
    _assert_envelope(res, res.status_code)


def test_unknown_route_and_method(client):
    _assert_envelope(client.get("/api/v1/nothing-here"), 404)
    _assert_envelope(client.delete("/api/v1/auth/login"), 405)


@pytest.mark.parametrize("path", ["/api/v1/tickets/46635964456427241472", "/api/v1/tickets/99999999999999999999999/events",
                                  "/api/v1/units/9223372036854775808", "/api/v1/tickets/0"])
def test_huge_ids_are_404_not_500(client, path):
    res = client.get(path)
    _assert_envelope(res, 404)


def test_huge_ids_in_bodies_and_cursors_are_4xx(client, demo, login):
    import base64

    h = login("grid")
    res = client.post("/api/v1/tickets/1/transfer", json={"unit_id": 10**20, "reason": "x"}, headers=h)
    assert res.status_code == 422
    cursor = base64.urlsafe_b64encode(b"[100000000000000000000000]").decode().rstrip("=")
    res = client.get(f"/api/v1/tickets?scope=unit&cursor={cursor}", headers=h)
    _assert_envelope(res, 422)
