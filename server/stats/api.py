"""Report cards and bulletins: public reads, thin views; the xlsx export for staff."""
import io

from flask import send_file
from flask_smorest import Blueprint

from ..auth import sessions
from ..auth.models import Role
from ..errors import Forbidden
from ..replica import replica_read, replica_reads
from ..units.scope import has_role
from . import operations, queries
from .export import filename, workbook_bytes
from .schemas import (
    BulletinDetail,
    BulletinDetailArgs,
    BulletinListArgs,
    BulletinPage,
    CategoryPeriodArgs,
    PeriodArgs,
    ReportCategoryCards,
    ReportRanking,
    ReportRules,
    ReportUnitCard,
)

stats_blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="成绩单：响应率、解决率、满意率")
bulletins_blp = Blueprint("bulletins", __name__, url_prefix="/api/v1/bulletins", description="两月一通报")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@stats_blp.get("/definitions")
@stats_blp.response(200, ReportRules)
def definitions():
    """How every figure is defined, the composite score's weights and the ranking minimum."""
    return queries.rules()


@stats_blp.get("/units/<int:unit_id>")
@stats_blp.arguments(PeriodArgs(), location="query")
@stats_blp.response(200, ReportUnitCard)
@replica_reads
def unit_card(args, unit_id):
    """A unit's report card over its subtree for a month or a run of months, and its rank among its siblings."""
    return queries.unit_card(unit_id, args.get("period"), args.get("category"))


@stats_blp.get("/units/<int:unit_id>/ranking")
@stats_blp.arguments(PeriodArgs(), location="query")
@stats_blp.response(200, ReportRanking)
@replica_reads
def ranking(args, unit_id):
    """The units directly under this one, ranked by the composite score."""
    return queries.ranking(unit_id, args.get("period"), args.get("category"))


@stats_blp.get("/units/<int:unit_id>/categories")
@stats_blp.arguments(CategoryPeriodArgs(), location="query")
@stats_blp.response(200, ReportCategoryCards)
@replica_reads
def by_category(args, unit_id):
    """A unit's report card split by category."""
    return queries.category_cards(unit_id, args.get("period"))


@bulletins_blp.get("")
@bulletins_blp.arguments(BulletinListArgs(), location="query")
@bulletins_blp.response(200, BulletinPage)
@replica_reads
def list_bulletins(args):
    """Published bulletins, newest first."""
    return operations.list_bulletins(**args)


@bulletins_blp.get("/<int:bulletin_id>")
@bulletins_blp.arguments(BulletinDetailArgs(), location="query")
@bulletins_blp.response(200, BulletinDetail)
@replica_reads
def get_bulletin(args, bulletin_id):
    """A published bulletin: every unit's numbers, level by level, siblings in rank order."""
    return operations.bulletin_detail(bulletin_id, args.get("parent_id"))


@bulletins_blp.get("/<int:bulletin_id>.xlsx")
@sessions.login_required
@bulletins_blp.doc(security=[{"bearerAuth": []}], responses={"200": {"description": "xlsx workbook",
                                                                     "content": {XLSX: {}}}})
def export_bulletin(bulletin_id):
    """The bulletin as an xlsx workbook, for administrators and unit heads."""
    if not has_role(sessions.viewer(), (Role.admin.value, Role.unit_head.value)):
        raise Forbidden("只有管理员和单位负责人可以导出通报", key="forbidden")
    with replica_read():  # who may export was read from the primary, above
        snapshot = operations.get_snapshot(bulletin_id)
    return send_file(io.BytesIO(workbook_bytes(snapshot)), mimetype=XLSX, as_attachment=True,
                     download_name=filename(snapshot))
