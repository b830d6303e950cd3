"""Freezing report cards: monthly supervision (一月一督查) and the public bulletin (两月一通报).

Operations flush, never commit. A snapshot is published when it is written and is never
changed afterwards (models.py refuses updates and deletes); asking again for the same
period returns the one already published.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..auth.models import Role, StaffPost
from ..errors import Invalid, NotFound
from ..extensions import db
from ..paging import decode_cursor, page
from ..timeutil import utcnow
from . import queries, rates
from .models import BULLETIN, MONTHLY, ReportSnapshot, ReportSnapshotCategory, ReportSnapshotUnit
from .periods import Period, month_of, parse_month, parse_period, single


def _existing(kind: str, period: Period) -> ReportSnapshot | None:
    return db.session.execute(sa.select(ReportSnapshot).where(
        ReportSnapshot.kind == kind, ReportSnapshot.first_month == str(period.first),
        ReportSnapshot.last_month == str(period.last))).scalar_one_or_none()


def freeze(kind: str, period: Period, title: str, now: datetime | None = None) -> tuple[ReportSnapshot, bool]:
    """Count every unit's report card for the period and write it down, ranked among siblings.

    One aggregate query grouped by unit and one by unit and category, roll-ups along unit
    paths, one median query per duration, multi-row inserts. Returns (snapshot, created).
    """
    now = now or utcnow()
    if not period.ended(now):
        raise Invalid(f"{period.label}尚未结束，不能生成成绩单", key="period_not_over")
    found = _existing(kind, period)
    if found is not None:
        return found, False
    units = queries.unit_rows()
    with queries.roomy_session():
        totals = queries.rollup(units, queries.aggregate(period, now))
        by_category = queries.rollup_by_category(units, queries.aggregate(period, now, group="unit_category"))
        med = queries.medians_by_unit(period)
    ranks = queries.ranks_among_siblings(units, totals)
    snapshot = ReportSnapshot(kind=kind, first_month=str(period.first), last_month=str(period.last), title=title,
                              starts_at=period.start, ends_at=period.end, as_of=now, min_tickets=rates.MIN_TICKETS,
                              weights=dict(rates.WEIGHTS), published_at=now)
    db.session.add(snapshot)
    db.session.flush()
    rows = []
    for unit in units:
        c = totals[unit.id]
        respond_median, resolve_median = med.get(unit.id, (None, None))
        score = rates.score(c)
        rows.append(dict(
            snapshot_id=snapshot.id, unit_id=unit.id, parent_id=unit.parent_id, depth=unit.depth,
            unit_code=unit.code, unit_name=unit.name, unit_kind=unit.kind, **c.as_dict(),
            median_response_us=None if respond_median is None else round(respond_median),
            median_resolution_us=None if resolve_median is None else round(resolve_median),
            score=None if score is None else round(score, 6), rank=ranks[unit.id], ranked=rates.is_ranked(c)))
    if rows:
        db.session.execute(sa.insert(ReportSnapshotUnit), rows)
    categories = [dict(snapshot_id=snapshot.id, unit_id=unit_id, category_id=category_id, counters=c.as_dict())
                  for (unit_id, category_id), c in sorted(by_category.items())]
    if categories:
        db.session.execute(sa.insert(ReportSnapshotCategory), categories)
    db.session.flush()
    return snapshot, True


def monthly(month: str | None = None, now: datetime | None = None) -> tuple[ReportSnapshot, bool, int]:
    """一月一督查: freeze the month (default: the last full Shanghai month) and tell each unit
    head their unit's overdue and dissatisfied counts. Returns (snapshot, created, notified)."""
    now = now or utcnow()
    target = parse_month(month) if month else month_of(now).previous()
    period = single(target)
    snapshot, created = freeze(MONTHLY, period, f"{period.label}接诉即办月度督查", now)
    notified = notify_heads(snapshot) if created else 0
    return snapshot, created, notified


def bulletin(months: str, now: datetime | None = None) -> tuple[ReportSnapshot, bool]:
    """两月一通报: publish the report card of every unit over the months, for every resident."""
    period = parse_period(months)
    return freeze(BULLETIN, period, f"{period.label}接诉即办成绩单通报", now)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def notify_heads(snapshot: ReportSnapshot) -> int:
    """One message per unit head: the unit's received, overdue and dissatisfied counts."""
    from ..notifications.outbox import notify

    heads = db.session.execute(sa.select(StaffPost.unit_id, StaffPost.user_id)
                               .where(StaffPost.role == Role.unit_head).order_by(StaffPost.id)).all()
    if not heads:
        return 0
    rows = {r.unit_id: r for r in db.session.execute(sa.select(ReportSnapshotUnit).where(
        ReportSnapshotUnit.snapshot_id == snapshot.id,
        ReportSnapshotUnit.unit_id.in_({unit_id for unit_id, _ in heads}))).scalars()}
    label = Period(parse_month(snapshot.first_month), parse_month(snapshot.last_month)).label
    sent = 0
    for unit_id, user_id in heads:
        row = rows.get(unit_id)
        if row is None:
            continue
        n = rates.numbers(row.counters)
        if row.overdue or row.dissatisfied:
            note = f"超时{row.overdue}件、不满意{row.dissatisfied}件，请督促整改"
        else:
            note = "本月无超时和不满意的问题"
        body = (f"{row.unit_name}{label}受理群众反映{row.received}件，超时{row.overdue}件，"
                f"群众不满意{row.dissatisfied}件；响应率{_percent(n['response_rate'])}，"
                f"解决率{_percent(n['resolution_rate'])}，满意率{_percent(n['satisfaction_rate'])}。"
                + ("请督促整改超时和不满意的问题。" if row.overdue or row.dissatisfied else ""))
        notify(user_id, "monthly_supervision", title=f"{label}月度督查：{row.unit_name}", body=body,
               data={"unit": row.unit_name, "overdue": row.overdue, "dissatisfied": row.dissatisfied,
                     "note": note, "month": snapshot.first_month, "unit_id": unit_id, "snapshot_id": snapshot.id},
               dedupe_key=f"monthly:{snapshot.first_month}:{unit_id}:{user_id}")
        sent += 1
    return sent


# --- reading published snapshots -------------------------------------------------------------


def get_snapshot(snapshot_id: int, kind: str | None = BULLETIN) -> ReportSnapshot:
    snapshot = db.session.get(ReportSnapshot, snapshot_id)
    if snapshot is None or (kind is not None and snapshot.kind != kind):
        raise NotFound("通报不存在", key="bulletin_not_found")
    return snapshot


def list_bulletins(limit: int = 20, cursor: str | None = None) -> dict:
    """Published bulletins, newest first."""
    query = sa.select(ReportSnapshot).where(ReportSnapshot.kind == BULLETIN) \
        .order_by(ReportSnapshot.id.desc()).limit(limit + 1)
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(ReportSnapshot.id < after[0])
    result = page(db.session.execute(query).scalars().all(), limit, lambda s: [s.id])
    result["items"] = [brief(s) for s in result["items"]]
    return result


def brief(snapshot: ReportSnapshot) -> dict:
    period = Period(parse_month(snapshot.first_month), parse_month(snapshot.last_month))
    return {"id": snapshot.id, "kind": snapshot.kind, "title": snapshot.title, "period": str(period),
            "period_label": period.label, "starts_at": snapshot.starts_at.isoformat(),
            "ends_at": snapshot.ends_at.isoformat(), "as_of": snapshot.as_of.isoformat(),
            "published_at": snapshot.published_at.isoformat()}


def unit_entry(row: ReportSnapshotUnit, min_tickets: int, weights: dict) -> dict:
    entry = rates.numbers(row.counters, row.median_response_us, row.median_resolution_us, min_tickets, weights)
    entry.update(unit={"id": row.unit_id, "code": row.unit_code, "name": row.unit_name, "kind": row.unit_kind},
                 parent_id=row.parent_id, depth=row.depth, rank=row.rank, ranked=row.ranked,
                 score=None if row.score is None else round(row.score, 4))
    return entry


def ordered_rows(snapshot: ReportSnapshot, parent_id: int | None = None) -> list[ReportSnapshotUnit]:
    """Level by level; within a group of siblings, in rank order (unranked last)."""
    rows = list(snapshot.rows)
    if parent_id is not None:
        rows = [r for r in rows if r.parent_id == parent_id]
    codes = {r.unit_id: r.unit_code for r in snapshot.rows}
    return sorted(rows, key=lambda r: (r.depth, codes.get(r.parent_id, ""), r.rank is None, r.rank or 0,
                                       -r.received, r.unit_code))


def bulletin_detail(snapshot_id: int, parent_id: int | None = None) -> dict:
    snapshot = get_snapshot(snapshot_id)
    detail = brief(snapshot)
    detail.update(min_tickets=snapshot.min_tickets, weights=snapshot.weights, definitions=dict(rates.DEFINITIONS),
                  units=[unit_entry(r, snapshot.min_tickets, snapshot.weights) for r in ordered_rows(snapshot, parent_id)])
    return detail
