"""The dashboard of a unit in the actor's scope: the three rates over twelve months (the
frozen monthly report cards), the units below ranked, categories, the overdue and
supervised lists, and a map of open tickets over the unit boundaries."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request

from ..extensions import db
from ..replica import replica_reads
from ..stats import queries as stats
from ..stats.periods import Period, month_of
from ..tickets import lifecycle as lc
from ..tickets import queries as tickets
from ..timeutil import utcnow
from ..units import queries as units
from ..units.models import Unit
from ..units.scope import scope_paths
from .web import actor, bp, home_unit, page, render, unit_in_scope

MAP_LIMIT = 300


def units_in_scope(levels: int = 2) -> list[Unit]:
    """The units of the actor's posts and up to `levels` below them, for choosing one."""
    who = actor()
    found: list[Unit] = []
    for path in scope_paths(who):
        top = db.session.execute(sa.select(Unit).where(Unit.path == path)).scalar()
        if top is None:
            continue
        found += db.session.execute(
            sa.select(Unit).where(Unit.path.startswith(path, autoescape=True), Unit.depth <= top.depth + levels)
            .order_by(Unit.path)).scalars().all()
    return found


def _ticket_brief(t) -> dict:
    return {"id": t.id, "status": t.status, "status_label": lc.STATUS_LABELS[lc.Status(t.status)],
            "category": t.category.name, "unit": t.unit.name, "description": t.description[:60],
            "lat": t.lat, "lng": t.lng, "overdue": t.overdue, "resolve_by": t.resolve_by, "created_at": t.created_at}


@bp.get("/")
@page("工作台", order=10)
@replica_reads  # lag-tolerant: frozen report cards and lists (server/replica.py)
def dashboard():
    who = actor()
    unit_id = request.args.get("unit", type=int)
    unit = unit_in_scope(unit_id) if unit_id is not None else home_unit(who)
    now = utcnow()
    this_month = month_of(now)
    series = stats.monthly_series(unit.id, this_month.previous(), 12)
    ranking = stats.latest_monthly_ranking(unit.id)
    months = [this_month.previous()]
    while len(months) < 12:
        months.insert(0, months[0].previous())
    year = Period(months[0], months[-1])  # the last twelve full months, as frozen
    categories = stats.frozen_categories(unit.id, months)
    overdue = tickets.list_tickets(who, scope="unit", unit=unit.id, overdue=True, limit=10)["items"]
    supervised = tickets.list_tickets(who, scope="supervision", limit=10)["items"]
    open_tickets = tickets.list_tickets(who, scope="unit", unit=unit.id, status=[s.value for s in lc.OPEN],
                                        limit=MAP_LIMIT)["items"]
    data = {
        "unit": {"id": unit.id, "name": unit.name},
        "series": series,
        "categories": [{"name": c["category"]["name"], "received": c["received"]} for c in categories],
        "ranking": [{"name": i["unit"]["name"], "score": i["score"], "rank": i["rank"]}
                    for i in (ranking or {"items": []})["items"]],
        "map": {"tiles": current_app.config.get("CONSOLE_TILES_URL") or "",
                "attribution": current_app.config.get("CONSOLE_TILES_ATTRIBUTION") or "",
                "boundaries": {"type": "FeatureCollection", "features": units.boundaries(unit)},
                "tickets": [_ticket_brief(t) for t in open_tickets]},
    }
    return render("console/dashboard.html", unit=unit, choices=units_in_scope(), series=series, ranking=ranking,
                  categories=categories, overdue=overdue, supervised=supervised, open_count=len(open_tickets),
                  year=year, data=data)
