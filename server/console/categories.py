"""Categories and their time limits: the list for administrators; the response and
resolution limits changed by an administrator of a top unit (categories.operations)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, request, url_for

from ..categories import operations as categories_ops
from ..categories.models import Category
from ..errors import Invalid
from ..extensions import db
from ..units.models import UNIT_KINDS
from .web import actor, audited, bp, page, render


def _state(category: Category) -> dict:
    return {"respond_hours": category.respond_hours, "resolve_days": category.resolve_days,
            "resolve_hours": category.resolve_hours}


@bp.get("/categories")
@page("分类时限", order=40, roles=("admin",))
def category_list():
    rows = db.session.execute(sa.select(Category).order_by(Category.sort_order, Category.id)).scalars().all()
    return render("console/categories.html", rows=rows, kinds=UNIT_KINDS, may_edit=categories_ops.may_edit(actor()),
                  done=request.args.get("done"))


def _number(name: str, required: bool = True) -> int | None:
    text = request.form.get(name, "").strip()
    if not text and not required:
        return None
    try:
        return int(text)
    except ValueError:
        raise Invalid("办理时限须为整数", key="validation_error", errors={"fields": {name: ["须为整数"]}}) from None


@bp.post("/categories/<int:category_id>/limits")
def category_limits(category_id: int):
    category = categories_ops.get_category(category_id)
    respond, days, hours = _number("respond_hours"), _number("resolve_days"), _number("resolve_hours", required=False)
    with audited("category.limits", f"category:{category.id}", lambda: _state(category)):
        categories_ops.set_time_limits(category, actor(), respond or 0, days or 0, hours)
    return redirect(url_for("console.category_list", done=category.code) + f"#category-{category.id}", 303)
