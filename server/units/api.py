from flask_smorest import Blueprint

from ..auth import sessions
from ..errors import NotFound
from . import queries
from .geo import to_wgs84
from .locator import locate as locate_point
from .schemas import CoordArgs, StaffListSchema, UnitDetailSchema, UnitListArgs, UnitPageSchema

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="治理单位")


def _detail(unit):
    unit.ancestors = queries.ancestors(unit)
    return unit


@blp.get("")
@blp.arguments(UnitListArgs(), location="query")
@blp.response(200, UnitPageSchema)
def list_units(args):
    return queries.list_units(**args)


@blp.get("/locate")
@blp.arguments(CoordArgs(), location="query")
@blp.response(200, UnitDetailSchema)
def locate(args):
    """The deepest unit whose boundary contains the point."""
    lat, lng = to_wgs84(args["lat"], args["lng"], args["coord"])
    unit = locate_point(lat, lng)
    if unit is None:
        raise NotFound("该位置不在任何治理单位的范围内", key="outside_all_units")
    return _detail(unit)


@blp.get("/<int:unit_id>")
@blp.response(200, UnitDetailSchema)
def get_unit(unit_id):
    return _detail(queries.get_unit(unit_id))


@blp.get("/<int:unit_id>/staff")
@sessions.login_required
@blp.response(200, StaffListSchema)
@blp.doc(security=[{"bearerAuth": []}])
def unit_staff(unit_id):
    """Staff of the unit and the units below it, for choosing an assignee (staff of the unit only)."""
    return {"items": queries.staff_of(queries.get_unit(unit_id), sessions.viewer())}
