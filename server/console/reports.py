"""Report cards and bulletins: the frozen monthly cards (一月一督查) of the actor's units,
the bimonthly bulletin (两月一通报) published by an administrator of a top unit
(stats.operations.bulletin), and any snapshot as an xlsx workbook of the actor's units
(stats.export)."""
from __future__ import annotations

import io

import sqlalchemy as sa
from flask import redirect, request, send_file, url_for

from ..categories.operations import may_edit as top_admin
from ..errors import NotFound
from ..extensions import db
from ..replica import replica_reads
from ..stats import operations as stats_ops
from ..stats.export import filename, workbook_bytes
from ..stats.models import BULLETIN, MONTHLY, ReportSnapshot
from ..stats.periods import month_of
from ..timeutil import utcnow
from .units import units_below
from .web import actor, audited, bp, page, render

READERS = ("admin", "unit_head")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _snapshots(kind: str, limit: int = 24) -> list[ReportSnapshot]:
    return list(db.session.execute(sa.select(ReportSnapshot).where(ReportSnapshot.kind == kind)
                                   .order_by(ReportSnapshot.id.desc()).limit(limit)).scalars())


def _my_unit_ids() -> set[int]:
    return {u.id for u in units_below(READERS)}


@bp.get("/reports")
@page("成绩单", order=60, roles=READERS)
@replica_reads
def report_cards():
    monthly, bulletins = _snapshots(MONTHLY), _snapshots(BULLETIN)
    chosen_id = request.args.get("snapshot", type=int)
    chosen = next((s for s in monthly if s.id == chosen_id), None) if chosen_id else (monthly[0] if monthly else None)
    if chosen_id and chosen is None:
        raise NotFound()
    mine = _my_unit_ids()
    cards = []
    if chosen is not None:
        cards = [stats_ops.unit_entry(row, chosen.min_tickets, chosen.weights)
                 for row in stats_ops.ordered_rows(chosen) if row.unit_id in mine]
    last = month_of(utcnow()).previous()
    return render("console/reports.html", monthly=monthly, bulletins=bulletins, chosen=chosen, cards=cards,
                  may_publish=top_admin(actor()), first_default=str(last.previous()), last_default=str(last),
                  done=request.args.get("done"))


@bp.post("/reports/bulletin")
def bulletin_publish():
    if not top_admin(actor()):
        raise NotFound()
    months = f"{request.form.get('first', '').strip()}..{request.form.get('last', '').strip()}"
    made: dict = {}

    def state() -> dict:
        snapshot = made.get("snapshot")
        return {} if snapshot is None else {"id": snapshot.id, "title": snapshot.title, "period": snapshot.period,
                                            "created": made["created"]}

    with audited("bulletin.publish", f"bulletin:{months[:40]}", state):
        made["snapshot"], made["created"] = stats_ops.bulletin(months)
    return redirect(url_for("console.report_cards", done="published" if made["created"] else "existed"), 303)


@bp.get("/reports/<int:snapshot_id>.xlsx")
def report_export(snapshot_id: int):
    """A snapshot's workbook: every unit for an administrator of a top unit, else the
    actor's units (404 when the snapshot has none of them)."""
    snapshot = db.session.get(ReportSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound()
    ids = None if top_admin(actor()) else _my_unit_ids()
    if ids is not None and not any(row.unit_id in ids for row in snapshot.rows):
        raise NotFound()
    return send_file(io.BytesIO(workbook_bytes(snapshot, ids)), mimetype=XLSX, as_attachment=True,
                     download_name=filename(snapshot))
