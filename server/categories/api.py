import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..extensions import db
from ..openapi import answer
from .models import Category

blp = Blueprint("categories", __name__, url_prefix="/api/v1/categories", description="问题分类")


@answer()
class CategorySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    icon = fields.String()
    description = fields.String()
    handler_kind = fields.String(allow_none=True)
    respond_hours = fields.Integer()
    resolve_days = fields.Integer()
    resolve_hours = fields.Integer(allow_none=True)


@answer()
class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema))


@blp.get("")
@blp.response(200, CategoryListSchema)
def list_categories():
    rows = db.session.execute(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.id)
    ).scalars().all()
    return {"items": rows}
