"""Changing a category's time limits (the office console, administrators covering the whole
tree). A ticket takes its deadlines from its category when it is reported (or approved), so
a change applies to tickets from then on, never to those already running."""
from __future__ import annotations

from ..auth.actor import Actor
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from .models import Category

MAX_RESPOND_HOURS = 24 * 7
MAX_RESOLVE_DAYS = 90
MAX_RESOLVE_HOURS = 24 * 30


def may_edit(actor: Actor | None) -> bool:
    """Categories are the same everywhere: only an administrator whose post is at a top unit
    (one with no parent) changes them."""
    return actor is not None and any(post.role.value == "admin" and post.unit.depth == 0 for post in actor.posts)


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("分类不存在", key="category_not_found")
    return category


def set_time_limits(category: Category, actor: Actor, respond_hours: int, resolve_days: int,
                    resolve_hours: int | None) -> Category:
    """The category's response limit (hours) and resolution limit (days, or hours for an
    emergency: `resolve_hours` then overrides the days)."""
    if not may_edit(actor):
        raise Forbidden("只有区级（最上级单位）管理员可以修改办理时限", key="forbidden")
    problems = {}
    if not 1 <= respond_hours <= MAX_RESPOND_HOURS:
        problems["respond_hours"] = [f"响应时限应为 1 到 {MAX_RESPOND_HOURS} 小时"]
    if not 1 <= resolve_days <= MAX_RESOLVE_DAYS:
        problems["resolve_days"] = [f"办结时限应为 1 到 {MAX_RESOLVE_DAYS} 天"]
    if resolve_hours is not None and not 1 <= resolve_hours <= MAX_RESOLVE_HOURS:
        problems["resolve_hours"] = [f"紧急办结时限应为 1 到 {MAX_RESOLVE_HOURS} 小时，或留空"]
    if resolve_hours is not None and resolve_hours < respond_hours:
        problems.setdefault("resolve_hours", []).append("紧急办结时限不能短于响应时限")
    if problems:
        raise Invalid("办理时限填写有误", key="validation_error", errors={"fields": problems})
    category.respond_hours, category.resolve_days, category.resolve_hours = respond_hours, resolve_days, resolve_hours
    db.session.flush()
    return category
