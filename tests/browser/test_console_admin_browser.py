"""The console's administration pages in Chromium: a boundary file uploaded, previewed on
the map and applied (then read from the JSON API); a post granted within the street head's
units and refused beyond them; and a screenshot of every page, at 1366x768 and narrow
(test-output/console/)."""
from __future__ import annotations

import json

import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import no_sideways_scroll, not_blank


def _box(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


UPLOAD = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": _box(114.261, 30.591, 114.279, 30.619),
     "properties": {"code": "gz-demo-hq-2-1", "name": "桃源社区一区", "kind": "compound", "parent": "gz-demo-hq-2"}},
    {"type": "Feature", "geometry": _box(114.262, 30.592, 114.27, 30.6),
     "properties": {"code": "gz-demo-hq-2-1-g1", "name": "桃源一区第一网格", "kind": "grid", "parent": "gz-demo-hq-2-1",
                    "responsibles": [{"name": "网格长老周", "title": "网格长"}]}},
]}


def test_a_boundary_file_is_previewed_on_the_map_then_applied(admin: Page, console, shots):
    page = admin
    page.goto(console.base + "/units")
    expect(page.get_by_role("heading", name="单位", exact=True)).to_be_visible()
    page.screenshot(path=shots / "units.png", full_page=True)
    page.get_by_label("GeoJSON 文件").set_input_files({"name": "taoyuan.geojson", "mimeType": "application/geo+json",
                                                       "buffer": json.dumps(UPLOAD, ensure_ascii=False).encode()})
    page.get_by_role("button", name="预览变更").click()  # htmx swaps the preview in
    expect(page.get_by_role("status")).to_contain_text("将新建 1 个单位，更新 1 个单位")
    expect(page.locator("table.preview")).to_contain_text("边界")
    page.locator("#unit-map path.leaflet-interactive").first.wait_for()
    drawn = page.evaluate("window.gongzhiUnitMap.boundaries")
    assert drawn == 3, drawn  # the compound before and after, and the new grid
    path = shots / "units-import-preview.png"
    page.screenshot(path=path, full_page=True)
    assert not_blank(path)
    before = requests.get(f"{console.base}/api/v1/units?kind=grid", timeout=10).json()["items"]
    assert not [u for u in before if u["code"] == "gz-demo-hq-2-1-g1"]  # nothing written by the preview
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text("已导入 2 个单位")
    page.get_by_role("link", name="桃源一区第一网格").click()
    expect(page.get_by_role("heading", name="桃源一区第一网格")).to_be_visible()
    expect(page.locator("body")).to_contain_text("网格长老周")
    page.locator("#unit-map path.leaflet-interactive").first.wait_for()
    page.screenshot(path=shots / "unit.png", full_page=True)
    unit_id = int(page.url.rsplit("/", 1)[1].split("?")[0])
    answer = requests.get(f"{console.base}/api/v1/units/{unit_id}", timeout=10).json()
    assert answer["code"] == "gz-demo-hq-2-1-g1" and answer["boundary"]["type"] == "Polygon"
    assert answer["boundary"]["coordinates"][0][0] == [114.262, 30.592]
    assert [a["code"] for a in answer["ancestors"]][-1] == "gz-demo-hq-2-1"
    no_sideways_scroll(page)
    page.locator("#unit-map path.leaflet-interactive").first.wait_for()
    page.screenshot(path=shots / "unit-narrow.png", full_page=True)


def test_a_post_is_granted_within_scope_and_refused_beyond_it(head: Page, console, shots):
    page = head
    page.goto(console.base + "/posts")
    expect(page.get_by_role("heading", name="岗位", exact=True)).to_be_visible()
    row = page.locator("table.posts tr", has_text="网格员小王").first
    user_id = row.locator("td").nth(1).inner_text().strip()
    form = page.locator("#grant-form")
    form.get_by_label("用户编号").fill(user_id)
    form.get_by_label("角色").select_option("cadre")
    unit_value = form.locator("select[name=unit_id] option", has_text="桃源社区").first.get_attribute("value")
    form.locator("select[name=unit_id]").select_option(unit_value)
    form.get_by_role("button", name="授予").click()
    expect(page.get_by_role("status")).to_contain_text("已授予岗位")
    expect(page.locator("table.posts")).to_contain_text("桃源社区")
    page.screenshot(path=shots / "posts.png", full_page=True)
    # a role above the head's own: the form's choices do not offer it; sent anyway, refused
    page.evaluate("""() => {
        const select = document.querySelector('#grant-form select[name=role]');
        select.add(new Option('管理员', 'admin'));
        select.value = 'admin';
    }""")
    page.locator("#grant-form").get_by_label("用户编号").fill(user_id)
    page.locator("#grant-form").get_by_role("button", name="授予").click()
    expect(page.get_by_role("heading", name="没有权限")).to_be_visible()
    expect(page.get_by_text("不能授予或撤销高于自己岗位的角色")).to_be_visible()
    page.screenshot(path=shots / "posts-refused.png", full_page=True)
    # a unit outside the head's street (民意街道): 404, as if it did not exist
    units = requests.get(f"{console.base}/api/v1/units?kind=street", timeout=10).json()["items"]
    outside = [u["id"] for u in units if u["name"] == "民意街道"][0]
    page.goto(console.base + "/posts")
    page.evaluate("""(unitId) => {
        const select = document.querySelector('#grant-form select[name=unit_id]');
        select.add(new Option('民意街道', String(unitId)));
        select.value = String(unitId);
    }""", outside)
    page.locator("#grant-form").get_by_label("用户编号").fill(user_id)
    page.locator("#grant-form").get_by_role("button", name="授予").click()
    expect(page.get_by_role("heading", name="找不到页面")).to_be_visible()
    page.goto(console.base + "/posts")
    no_sideways_scroll(page)
    page.screenshot(path=shots / "posts-narrow.png", full_page=True)


def test_the_other_pages_render_for_their_roles(head: Page, admin: Page, console, shots):
    head.goto(console.base + "/moderation")
    expect(head.get_by_role("heading", name="审核", exact=True)).to_be_visible()
    head.screenshot(path=shots / "moderation.png", full_page=True)
    head.goto(console.base + "/reports")
    expect(head.get_by_role("heading", name="成绩单与通报")).to_be_visible()
    expect(head.locator("table.cards")).to_contain_text("花桥社区")
    head.screenshot(path=shots / "reports.png", full_page=True)
    with head.expect_download() as download:
        head.get_by_role("link", name="导出 Excel").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert head.goto(console.base + "/admin/keys").status == 404
    admin.goto(console.base + "/categories")
    expect(admin.get_by_role("heading", name="分类与办理时限")).to_be_visible()
    field = admin.get_by_label("路灯损坏 响应时限（小时）")
    field.fill("12")
    admin.get_by_role("button", name="保存 路灯损坏 的办理时限").click()
    expect(admin.get_by_role("status")).to_contain_text("已保存")
    expect(admin.get_by_label("路灯损坏 响应时限（小时）")).to_have_value("12")
    admin.screenshot(path=shots / "categories.png", full_page=True)
    admin.goto(console.base + "/admin/keys")
    admin.get_by_label("接入方名称").fill("城市服务平台")
    admin.get_by_role("button", name="签发").click()
    expect(admin.locator("#new-secret")).to_contain_text("o311_")
    admin.screenshot(path=shots / "keys.png", full_page=True)
    admin.goto(console.base + "/admin/keys")
    expect(admin.locator("#new-secret")).to_have_count(0)  # shown once
    no_sideways_scroll(admin)


def test_keyboard_reaches_a_grant(head: Page, console):
    page = head
    page.goto(console.base + "/posts")
    page.locator("#grant-form input[name=user_id]").focus()
    for expected in ("role", "unit_id"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == expected
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "授予"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") not in ("none", "")
