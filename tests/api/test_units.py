import sqlalchemy as sa

from server.extensions import db
from server.units.geo import wgs84_to_gcj02
from server.units.models import Unit


def _unit(code):
    return db.session.execute(sa.select(Unit).where(Unit.code == code)).scalar_one()


def test_list_units_pages_with_a_cursor(client, demo):
    first = client.get("/api/v1/units?limit=10").json
    assert len(first["items"]) == 10 and first["next_cursor"]
    second = client.get(f"/api/v1/units?limit=10&cursor={first['next_cursor']}").json
    assert len(second["items"]) == 5 and second["next_cursor"] is None
    codes = {u["code"] for u in first["items"] + second["items"]}
    assert len(codes) == 15


def test_unit_detail_has_ancestors_children_boundary_and_responsibles(client, demo):
    community = _unit("gz-demo-hq-1")
    body = client.get(f"/api/v1/units/{community.id}").json
    assert [a["code"] for a in body["ancestors"]] == ["gz-demo", "gz-demo-hq"]
    assert [c["code"] for c in body["children"]] == ["gz-demo-hq-1-1", "gz-demo-hq-1-2"]
    assert body["boundary"]["type"] == "Polygon"
    assert body["responsibles"][0]["name"] and body["kind_label"] == "社区"


def test_locate_returns_the_deepest_unit(client, demo):
    body = client.get("/api/v1/units/locate?lat=30.57&lng=114.27").json
    assert body["code"] == "gz-demo-hq-1-1" and body["kind"] == "compound"
    assert [a["code"] for a in body["ancestors"]] == ["gz-demo", "gz-demo-hq", "gz-demo-hq-1"]


def test_locate_converts_gcj02(client, demo):
    # A WGS-84 point just inside the east edge of compound hq-1-1; in GCJ-02 its numbers lie
    # hundreds of metres further east, so taken as WGS-84 they would land in hq-1-2.
    lat, lng = 30.57, 114.2795
    glat, glng = wgs84_to_gcj02(lat, lng)
    assert client.get(f"/api/v1/units/locate?lat={lat}&lng={lng}").json["code"] == "gz-demo-hq-1-1"
    assert client.get(f"/api/v1/units/locate?lat={glat}&lng={glng}&coord=gcj02").json["code"] == "gz-demo-hq-1-1"
    assert client.get(f"/api/v1/units/locate?lat={glat}&lng={glng}").json["code"] == "gz-demo-hq-1-2"


def test_locate_outside_every_unit_is_404(client, demo):
    res = client.get("/api/v1/units/locate?lat=39.9&lng=116.4")
    assert res.status_code == 404 and res.json["message"] == "outside_all_units"


def test_locate_sees_a_new_import_without_restart(client, demo):
    from server.units.operations import import_units

    assert client.get("/api/v1/units/locate?lat=30.6&lng=114.5").status_code == 404
    import_units({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "east", "name": "东湖社区", "kind": "community", "parent": "gz-demo"},
        "geometry": {"type": "Polygon", "coordinates": [[[114.45, 30.55], [114.55, 30.55], [114.55, 30.65], [114.45, 30.65], [114.45, 30.55]]]},
    }]})
    db.session.commit()
    assert client.get("/api/v1/units/locate?lat=30.6&lng=114.5").json["code"] == "east"


def test_unknown_unit_is_404(client, demo):
    res = client.get("/api/v1/units/999999")
    assert res.status_code == 404 and res.json["message"] == "unit_not_found"


def test_categories_follow_12345_time_limits(client, demo):
    items = {c["code"]: c for c in client.get("/api/v1/categories").json["items"]}
    assert len(items) >= 10
    assert items["safety_hazard"]["resolve_hours"] == 2
    assert items["water_supply"]["resolve_hours"] == 24
    assert items["streetlight"]["resolve_days"] == 7
    assert items["illegal_construction"]["resolve_days"] == 15
    assert all(c["name"] and c["icon"] for c in items.values())


def test_healthz_checks_the_database(client):
    res = client.get("/healthz")
    assert res.status_code == 200 and res.json["database"] == "ok"


def test_openapi_document_lists_the_api(client):
    spec = client.get("/api/openapi.json").json
    assert "/api/v1/auth/login" in spec["paths"] and "/api/v1/units/locate" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_unit_staff_for_choosing_an_assignee(client, demo, login):
    community = _unit("gz-demo-hq-1")
    staff = client.get(f"/api/v1/units/{community.id}/staff", headers=login("cadre")).json["items"]
    assert {(s["display"], s["role"]) for s in staff} == {("网格员小王", "grid_worker"), ("社区干部李姐", "cadre")}
    street = _unit("gz-demo-hq")
    assert client.get(f"/api/v1/units/{street.id}/staff", headers=login("cadre")).status_code == 403
    assert client.get(f"/api/v1/units/{community.id}/staff", headers=login("resident")).status_code == 403
    assert client.get(f"/api/v1/units/{community.id}/staff").status_code == 401


def test_locator_sees_another_process_change_within_its_ttl(client, demo, app):
    """Routing asks whether units changed at most every UNIT_LOCATOR_TTL_SECONDS; a change
    written by another process (here a plain INSERT, which this process's ORM never sees)
    is routed to once that time has passed, without a restart."""
    import time

    app.config["UNIT_LOCATOR_TTL_SECONDS"] = 0.5
    try:
        assert client.get("/api/v1/units/locate?lat=30.6&lng=114.5").status_code == 404
        root = _unit("gz-demo")
        with db.engine.begin() as conn:
            conn.execute(sa.insert(Unit.__table__).values(
                code="east-2", name="东湖二社区", kind="community", parent_id=root.id, depth=1, path=root.path,
                boundary='{"type": "Polygon", "coordinates": [[[114.45, 30.55], [114.55, 30.55], [114.55, 30.65], '
                         '[114.45, 30.65], [114.45, 30.55]]]}'))
        assert client.get("/api/v1/units/locate?lat=30.6&lng=114.5").status_code == 404  # still within the TTL
        time.sleep(0.6)
        assert client.get("/api/v1/units/locate?lat=30.6&lng=114.5").json["code"] == "east-2"
    finally:
        app.config["UNIT_LOCATOR_TTL_SECONDS"] = 5.0
