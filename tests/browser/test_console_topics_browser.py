"""Deciding together in Chromium: the street head drafts a topic, opens it for opinions
with a date picked in the form, and sees its timeline; the topics list and the roll's page
are drawn. Screenshots in test-output/console/."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from playwright.sync_api import Page, expect

from tests.browser.conftest import no_sideways_scroll, not_blank


def test_a_topic_is_drafted_and_opened_for_opinions(head: Page, console, shots):
    page = head
    page.goto(console.base + "/topics")
    expect(page.get_by_role("heading", name="议题", exact=True)).to_be_visible()
    page.get_by_role("textbox", name="议题").fill("小区东门加装遮雨棚")
    page.get_by_label("说明").fill("雨天接送孩子的家长没处站")
    page.get_by_role("button", name="提出（草拟）").click()
    expect(page.locator("#topic-status")).to_have_text("草拟")
    until = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    page.locator("summary", has_text="征求意见").click()  # each stage's form folds open
    form = page.locator("#form-solicit")
    form.get_by_label("征求意见截至（北京时间，至少三天）").fill(until)
    form.get_by_label("会议记录、说明").fill("请居民说说遮雨棚的样式")
    form.get_by_role("button", name="征求意见").click()
    expect(page.locator("#topic-status")).to_have_text("征求意见")
    expect(page.locator("#timeline")).to_contain_text("请居民说说遮雨棚的样式")
    page.screenshot(path=shots / "topic.png", full_page=True)
    assert not_blank(shots / "topic.png")
    no_sideways_scroll(page)
    page.screenshot(path=shots / "topic-narrow.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(console.base + "/topics")
    expect(page.locator("#topic-table")).to_contain_text("小区东门加装遮雨棚")
    page.screenshot(path=shots / "topics.png", full_page=True)
    page.goto(console.base + "/roll")
    expect(page.get_by_role("heading", name="居民名册 · 待确认的住址")).to_be_visible()
    page.screenshot(path=shots / "roll.png", full_page=True)
    no_sideways_scroll(page)
