"""The office console in Chromium: signing in with password and TOTP, the dashboard's
charts and map drawn with data, assigning a ticket and reading it back from the JSON API,
a form without its CSRF token refused, an out-of-scope address answered 404, and the
pages at desktop and narrow widths. Each page's screenshot is saved to test-output/console/."""
from __future__ import annotations

import os
import shutil

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCOUNTS, ROOT, not_blank, sign_in


def test_sign_in_with_password_and_totp(page: Page, console, shots):
    page.goto(console.base + "/login")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    expect(page.get_by_text("开发环境一键登录")).to_have_count(0)  # DEV_LOGIN off
    page.screenshot(path=shots / "login.png", full_page=True)
    # a wrong code is refused
    username, password, _ = ACCOUNTS["head"]
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_label("动态验证码").fill("000000")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名、密码或动态验证码不正确")
    sign_in(page, console.base)
    expect(page).to_have_url(console.base + "/")
    expect(page.get_by_role("heading", name="花桥街道 工作台")).to_be_visible()
    cookie = [c for c in page.context.cookies() if c["name"] == "gz_console"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_dashboard_draws_its_charts_and_map(head: Page, console, shots):
    page = head
    page.goto(console.base + "/")
    page.locator("#ticket-map path.ticket-marker").first.wait_for()  # (no wait_for_function: CSP has no eval)
    drawn = page.evaluate("""() => {
        const d = window.gongzhiDashboard;
        const charts = {};
        for (const [id, chart] of Object.entries(d.charts)) {
            const series = chart.getOption().series;
            charts[id] = series.map(s => s.data.filter(v => v !== null && v !== undefined).length);
        }
        return {charts, markers: d.markers, boundaries: d.boundaries,
                svgMarkers: document.querySelectorAll('#ticket-map path.ticket-marker').length};
    }""")
    assert set(drawn["charts"]) == {"trend-chart", "ranking-chart", "category-chart"}, drawn
    assert drawn["charts"]["trend-chart"] == [12, 12, 12], drawn  # three rates, twelve frozen months
    assert all(n > 0 for counts in drawn["charts"].values() for n in counts), drawn
    assert drawn["markers"] > 0 and drawn["svgMarkers"] == drawn["markers"], drawn
    assert drawn["boundaries"] >= 3, drawn  # the street, its communities and compounds
    path = shots / "dashboard.png"
    page.screenshot(path=path, full_page=True)
    assert not_blank(path)
    readme_shot = ROOT / "docs" / "console.png"
    if os.environ.get("UPDATE_CONSOLE_SCREENSHOT") == "1" or not readme_shot.exists():
        shutil.copyfile(path, readme_shot)  # the README's picture, refreshed on demand only
    # narrow: one column, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.locator("#ticket-map path.ticket-marker").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=shots / "dashboard-narrow.png", full_page=True)


def test_keyboard_reaches_the_navigation(head: Page, console):
    page = head
    page.goto(console.base + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到正文")).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "问题办理", focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="问题办理")).to_be_visible()


def test_assign_in_the_console_shows_in_the_api(head: Page, console, shots):
    page, ticket_id = head, console.ids["to_assign"]
    page.goto(console.base + "/tickets")
    page.get_by_label("状态").select_option("accepted")  # htmx swaps the table in
    expect(page.get_by_role("link", name=f"#{ticket_id}", exact=True)).to_be_visible()
    page.screenshot(path=shots / "tickets.png", full_page=True)
    page.get_by_role("link", name=f"#{ticket_id}", exact=True).click()
    expect(page.get_by_role("heading", name=f"问题 #{ticket_id} · 路灯损坏")).to_be_visible()
    page.screenshot(path=shots / "ticket.png", full_page=True)
    form = page.locator("#form-assign")
    form.get_by_label("承办人").select_option(label="社区干部李姐 · 花桥社区干部")
    form.get_by_label("优先级").select_option("urgent")
    form.get_by_label("说明").fill("请本周内修复")
    form.get_by_role("button", name="派单").click()
    expect(page.get_by_role("status")).to_contain_text("已派单")
    expect(page.locator("#ticket-status")).to_contain_text("已派单")
    page.screenshot(path=shots / "ticket-assigned.png", full_page=True)
    answer = requests.get(f"{console.base}/api/v1/tickets/{ticket_id}", timeout=10).json()
    assert answer["status"] == "assigned" and answer["priority"] == "urgent"
    assert answer["assignee"]["display"] == "社区干部李姐"
    events = requests.get(f"{console.base}/api/v1/tickets/{ticket_id}/events", timeout=10).json()["items"]
    assert events[-1]["action"] == "assign"


def test_a_form_without_its_csrf_token_is_refused(head: Page, console):
    page = head
    page.goto(f"{console.base}/tickets/{console.ids['to_assign']}")
    # the page's own form, its token taken out, submitted by the browser with its cookie
    page.evaluate("""() => {
        const form = document.querySelector('form[action="/logout"]');
        form.querySelector('input[name=csrf_token]').remove();
        form.submit();
    }""")
    expect(page.get_by_role("heading", name="请求无效")).to_be_visible()
    expect(page.get_by_text("页面已过期或请求来源不明")).to_be_visible()
    page.goto(console.base + "/")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()  # still signed in: nothing happened
    # and a request from another site's page (no token at all) is refused too
    response = page.request.post(f"{console.base}/tickets/{console.ids['to_assign']}/accept", form={"note": "x"})
    assert response.status == 400


def test_out_of_scope_is_404(head: Page, console, shots):
    page = head
    response = page.goto(f"{console.base}/tickets/{console.ids['outside']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="找不到页面")).to_be_visible()
    page.screenshot(path=shots / "not-found.png", full_page=True)
    assert page.goto(console.base + "/admin/audit").status == 404  # administrators only


def test_admin_reads_the_audit_log_and_the_public_page_needs_no_sign_in(page: Page, console, shots):
    sign_in(page, console.base, "admin")
    page.goto(console.base + "/admin/audit")
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    expect(page.locator("table.audit")).to_contain_text("sign_in")
    page.screenshot(path=shots / "audit.png", full_page=True)
    page.context.clear_cookies()
    page.goto(console.base + "/public")
    expect(page.get_by_role("heading", name="接诉即办公开成绩单")).to_be_visible()
    expect(page.locator("body")).to_contain_text("成绩单通报")
    page.screenshot(path=shots / "public.png", full_page=True)


@pytest.mark.parametrize("asset", ["vendor/htmx.min.js", "vendor/echarts.min.js", "vendor/leaflet/leaflet.js"])
def test_the_libraries_come_from_the_service(console, asset):
    res = requests.get(f"{console.base}/console/static/{asset}", timeout=10)
    assert res.status_code == 200 and len(res.content) > 10_000
