"""The report card and the bulletins over HTTP and the `flask reports` commands."""
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from server.extensions import db
from server.stats import operations
from server.units.models import Unit
from tests.integration.test_stats_fixtures import AS_OF, HQ1_OCTOBER, build_october


def unit_id(code):
    return db.session.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


@pytest.fixture
def october(demo):
    build_october()
    db.session.commit()
    return demo


@pytest.fixture
def bulletin(october):
    snapshot, _ = operations.bulletin("2026-09..2026-10", now=AS_OF)
    db.session.commit()
    return snapshot.id


def _envelope(res, status, key=None):
    assert res.status_code == status, res.get_data(as_text=True)
    assert set(res.json) == {"code", "status", "message", "errors"} and res.json["errors"]["detail"]
    if key:
        assert res.json["message"] == key


def test_anyone_reads_a_units_report_card(client, october):
    res = client.get(f"/api/v1/stats/units/{unit_id('gz-demo-hq-1')}?period=2026-10")
    assert res.status_code == 200, res.json
    body = res.json
    assert body["unit"] == {"id": unit_id("gz-demo-hq-1"), "code": "gz-demo-hq-1", "name": "花桥社区", "kind": "community"}
    assert (body["period"], body["period_label"]) == ("2026-10", "2026年10月")
    # closed tickets are counted as of now, which is after every October deadline, as AS_OF is
    assert {k: body[k] for k in HQ1_OCTOBER} == HQ1_OCTOBER
    assert (body["rank"], body["ranked_among"], body["min_tickets"]) == (2, 2, 5)
    assert body["weights"] == {"response": 0.3, "resolution": 0.4, "satisfaction": 0.3}
    assert "响应率" in body["definitions"]["response_rate"] and "满意率" in body["definitions"]["satisfaction_rate"]
    assert body["category"] is None


def test_ranking_categories_and_definitions(client, october):
    res = client.get(f"/api/v1/stats/units/{unit_id('gz-demo')}/ranking?period=2026-10")
    assert [(i["unit"]["name"], i["rank"], i["ranked"]) for i in res.json["items"]] == [
        ("花桥街道", 1, True), ("民意街道", None, False)]
    res = client.get(f"/api/v1/stats/units/{unit_id('gz-demo-hq-1')}/categories?period=2026-10")
    assert [(i["category"]["name"], i["received"]) for i in res.json["items"]] == [("路灯损坏", 15), ("安全隐患", 1)]
    res = client.get(f"/api/v1/stats/units/{unit_id('gz-demo-hq-1')}?period=2026-10&category=safety_hazard")
    assert res.json["received"] == 1 and res.json["category"]["code"] == "safety_hazard"
    assert client.get("/api/v1/stats/definitions").json["min_tickets"] == 5


def test_the_default_period_is_the_current_month(client, october):
    res = client.get(f"/api/v1/stats/units/{unit_id('gz-demo')}")
    assert res.status_code == 200 and len(res.json["period"]) == 7


@pytest.mark.parametrize("query, key", [
    ("period=2026-13", "invalid_period"),
    ("period=abc", "invalid_period"),
    ("period=2024-01..2026-01", "invalid_period"),   # 25 months
    ("period=2026-10..2026-09", "invalid_period"),
    ("period=" + "9" * 40, "validation_error"),
    ("category=nope", "unknown_category"),
    ("category=", "validation_error"),
])
def test_bad_queries_are_422(client, october, query, key):
    for path in ("", "/ranking"):
        _envelope(client.get(f"/api/v1/stats/units/{unit_id('gz-demo')}{path}?{query}"), 422, key)


def test_unknown_unit_is_404(client, october):
    _envelope(client.get("/api/v1/stats/units/999999?period=2026-10"), 404, "unit_not_found")
    _envelope(client.get("/api/v1/stats/units/99999999999999999999"), 404)
    _envelope(client.get("/api/v1/stats/units/999999/ranking"), 404, "unit_not_found")
    _envelope(client.get("/api/v1/stats/units/999999/categories"), 404, "unit_not_found")


def test_bulletins_list_and_detail(client, bulletin):
    res = client.get("/api/v1/bulletins")
    assert res.status_code == 200
    assert res.json["next_cursor"] is None
    [item] = res.json["items"]
    assert {k: item[k] for k in ("id", "title", "period")} == {
        "id": bulletin, "title": "2026年9月至10月接诉即办成绩单通报", "period": "2026-09..2026-10"}
    assert item["published_at"].startswith("2026-11-20T00:00:00")

    detail = client.get(f"/api/v1/bulletins/{bulletin}").json
    assert detail["title"] == item["title"] and detail["period"] == "2026-09..2026-10"
    first = detail["units"][0]
    assert first["unit"]["name"] == "共治示范区" and first["received"] == 23
    assert {"response_rate", "resolution_rate", "satisfaction_rate", "score", "rank"} <= set(first)
    streets = client.get(f"/api/v1/bulletins/{bulletin}?parent_id={unit_id('gz-demo')}").json["units"]
    assert [(u["unit"]["name"], u["rank"]) for u in streets] == [("花桥街道", 1), ("民意街道", None)]
    assert client.get(f"/api/v1/bulletins/{bulletin}?parent_id=99999999999999999999").json["units"] == []


def test_bulletin_pages_and_errors(client, bulletin):
    operations.bulletin("2026-07..2026-08", now=AS_OF)
    db.session.commit()
    page = client.get("/api/v1/bulletins?limit=1").json
    assert [i["period"] for i in page["items"]] == ["2026-07..2026-08"] and page["next_cursor"]
    rest = client.get(f"/api/v1/bulletins?limit=1&cursor={page['next_cursor']}").json
    assert [i["period"] for i in rest["items"]] == ["2026-09..2026-10"] and rest["next_cursor"] is None
    _envelope(client.get("/api/v1/bulletins/999999"), 404, "bulletin_not_found")
    _envelope(client.get("/api/v1/bulletins?cursor=%%%"), 422)
    _envelope(client.get("/api/v1/bulletins?limit=0"), 422)
    monthly, _, _ = operations.monthly("2026-10", now=AS_OF)
    db.session.commit()
    _envelope(client.get(f"/api/v1/bulletins/{monthly.id}"), 404, "bulletin_not_found")  # supervision is internal


def test_xlsx_export_is_for_admins_and_unit_heads(client, login, bulletin):
    url = f"/api/v1/bulletins/{bulletin}.xlsx"
    _envelope(client.get(url), 401)
    _envelope(client.get(url, headers=login("resident")), 403, "forbidden")
    _envelope(client.get(url, headers=login("grid")), 403, "forbidden")
    res = client.get(url, headers=login("head"))
    assert res.status_code == 200 and res.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in res.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(res.data))["成绩单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("单位编码", "单位名称", "层级", "上级单位", "受理量")
    hq1 = next(r for r in rows if r[0] == "gz-demo-hq-1")
    assert hq1[1:5] == ("花桥社区", "社区", "花桥街道", 17)
    assert client.get(url, headers=login("admin")).status_code == 200
    _envelope(client.get("/api/v1/bulletins/999999.xlsx", headers=login("admin")), 404)


def test_reports_commands(ctx, october, tmp_path):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-10"])
    assert result.exit_code == 0, result.output
    assert '"period": "2026-10"' in result.output and '"created": true' in result.output
    again = runner.invoke(args=["reports", "monthly", "--month", "2026-10"])
    assert '"created": false' in again.output
    result = runner.invoke(args=["reports", "bulletin", "--months", "2026-09..2026-10"])
    assert result.exit_code == 0 and "成绩单通报" in result.output
    snapshot_id = operations.list_bulletins()["items"][0]["id"]
    out = tmp_path / "b.xlsx"
    result = runner.invoke(args=["reports", "export", str(snapshot_id), "-o", str(out)])
    assert result.exit_code == 0 and load_workbook(out)["指标说明"]["A1"].value == "通报"
    for bad in (["monthly", "--month", "2026-13"], ["monthly", "--month", "2099-01"],
                ["bulletin", "--months", "abc"], ["export", "999999"]):
        result = runner.invoke(args=["reports", *bad])
        assert result.exit_code == 1 and "错误" in result.output, bad
