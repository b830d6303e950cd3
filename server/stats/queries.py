"""The report card in SQL: one aggregate over the period's tickets, grouped by unit (or
category), rolled up the unit tree in Python over units; medians by window functions.

Nothing here loops over tickets in Python. Durations are integer microseconds computed
by the database (`us_between`), so SQLite and MySQL give the same sums and medians.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from ..categories.models import Category
from ..errors import Invalid
from ..extensions import db
from ..tickets.lifecycle import OPEN, Status
from ..tickets.models import Ticket
from ..timeutil import UTCDateTime, utcnow
from ..units.models import Unit
from ..units.queries import get_unit
from . import rates
from .periods import Month, Period, month_of, parse_period, single
from .rates import Counters

# --- durations in SQL -------------------------------------------------------------------


class us_between(FunctionElement):
    """Whole microseconds from the first datetime to the second, exact on every backend."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "us_between"


@compiles(us_between, "mysql")
def _us_between_mysql(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"TIMESTAMPDIFF(MICROSECOND, {compiler.process(start, **kw)}, {compiler.process(end, **kw)})"


@compiles(us_between, "sqlite")
def _us_between_sqlite(element, compiler, **kw):
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds from strftime('%s'),
    # microseconds from characters 21-26, both as integers (julianday() would round).
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return (f"((CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)) * 1000000"
            f" + (CAST(substr({end}, 21, 6) AS INTEGER) - CAST(substr({start}, 21, 6) AS INTEGER)))")


@compiles(us_between)
def _us_between_default(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS BIGINT)"


# --- what counts -------------------------------------------------------------------------


T = Ticket


def _predicates(as_of: datetime) -> dict[str, sa.ColumnElement]:
    """Per-ticket conditions, each the SQL twin of a sentence in docs/REPORT-CARD.md."""
    as_of_param = sa.literal(as_of, UTCDateTime())
    respond_us = us_between(T.created_at, T.responded_at)
    # A transfer gives the receiving unit fresh limits (respond_by is reset), so the first
    # response is also held to the category's window counted from the report.
    responded_in_time = sa.and_(T.responded_at.is_not(None), T.responded_at <= T.respond_by,
                                respond_us <= Category.respond_hours * rates.US_PER_HOUR)
    withdrawn_early = sa.and_(T.status == Status.withdrawn, T.responded_at.is_(None),
                              T.closed_at <= T.respond_by)
    not_to_resolve = sa.or_(T.status == Status.withdrawn,
                            sa.and_(T.status == Status.returned, T.return_reason.in_(rates.NOT_TO_RESOLVE_REASONS)))
    resolved = T.resolved_at.is_not(None)
    # The reporter's latest rating: the final one once closed; a first "dissatisfied"
    # (the only way to a redo) stands until the redo is rated.
    latest_rating = sa.case((T.rating.is_not(None), T.rating), (T.redo_count > 0, "dissatisfied"), else_=None)
    late_response = sa.and_(sa.not_(withdrawn_early), sa.not_(responded_in_time),
                            sa.or_(T.responded_at.is_not(None), T.respond_by < as_of_param))
    late_resolution = sa.and_(sa.not_(not_to_resolve), sa.or_(
        sa.and_(resolved, T.resolved_at > T.resolve_by),
        sa.and_(T.status.in_(list(OPEN)), T.resolve_by < as_of_param)))
    return {
        "withdrawn_early": withdrawn_early,
        "responded_in_time": responded_in_time,
        "not_to_resolve": not_to_resolve,
        "resolved": resolved,
        "resolved_on_time": sa.and_(resolved, T.resolved_at <= T.resolve_by),
        "satisfied": latest_rating == "satisfied",
        "basically_satisfied": latest_rating == "basically_satisfied",
        "dissatisfied": latest_rating == "dissatisfied",
        "unrated": sa.and_(resolved, T.rating.is_(None), T.redo_count == 0),
        "overdue": sa.or_(late_response, late_resolution),
        "redo": T.redo_count > 0,
        "responded": T.responded_at.is_not(None),
    }


def _count(condition) -> sa.ColumnElement:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _in_period(period: Period):
    """The period's tickets; a report hidden by moderation is none of them."""
    return sa.and_(T.created_at >= period.start, T.created_at < period.end, T.hidden.is_(False))


def aggregate(period: Period, as_of: datetime, *, within: list[int] | None = None, category_id: int | None = None,
              group: str | None = "unit") -> dict:
    """Counters of the period's tickets by unit_id, category_id, (unit_id, category_id) or
    (group=None) in total.

    `within` names the units (a subtree, from their paths) whose tickets count; None: all.
    A literal id list lets the database range-scan (unit_id, created_at) per unit.
    """
    p = _predicates(as_of)
    columns = [sa.func.count().label("received")]
    columns += [_count(cond).label(name) for name, cond in p.items()]
    columns += [
        sa.func.sum(sa.case((p["responded"], us_between(T.created_at, T.responded_at)), else_=0)).label("respond_us"),
        sa.func.sum(sa.case((p["resolved"], us_between(T.created_at, T.resolved_at)), else_=0)).label("resolve_us"),
    ]
    keys = {"unit": [T.unit_id], "category": [T.category_id], "unit_category": [T.unit_id, T.category_id],
            None: []}[group]
    # STRAIGHT_JOIN: tickets first (by created_at, or by unit and created_at), then their
    # category by primary key; MariaDB otherwise may read every ticket of each category.
    query = sa.select(*(k.label(f"key{i}") for i, k in enumerate(keys)), *columns).select_from(T) \
        .join(Category, Category.id == T.category_id).where(_in_period(period)) \
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
    if within is not None:
        query = query.where(T.unit_id.in_(within))
    if category_id is not None:
        query = query.where(T.category_id == category_id)
    if keys:
        query = query.group_by(*keys)
    rows = db.session.execute(query).mappings().all()
    if not keys:
        return {None: Counters.from_row(dict(rows[0])) if rows else Counters()}
    if len(keys) == 2:
        return {(row["key0"], row["key1"]): Counters.from_row(dict(row)) for row in rows}
    return {row["key0"]: Counters.from_row(dict(row)) for row in rows}


_DURATIONS = ((T.responded_at, T.responded_at.is_not(None)), (T.resolved_at, T.resolved_at.is_not(None)))


def _middle(values, keys: list[str]) -> sa.Select:
    """Sum and count of the middle one or two values `v` of each partition of `values`.

    ROW_NUMBER and COUNT over the same window: the middle rows are those with 2*rn equal
    to n (even n, lower), n+1 (odd n) or n+2 (even n, upper). The median is sum / count.
    """
    part = [values.c[k] for k in keys]
    ordered = sa.select(*part, values.c.v,
                        sa.func.row_number().over(partition_by=part, order_by=values.c.v).label("rn"),
                        sa.func.count().over(partition_by=part).label("n")).subquery("o")
    opart = [ordered.c[k] for k in keys]
    middle = sa.or_(ordered.c.rn * 2 == ordered.c.n, ordered.c.rn * 2 == ordered.c.n + 1,
                    ordered.c.rn * 2 == ordered.c.n + 2)
    return sa.select(*opart, sa.func.sum(ordered.c.v).label("total"), sa.func.count().label("m")) \
        .where(middle).group_by(*opart)


def _collect(queries_by_slot, key_of) -> dict:
    result: dict = {}
    for slot, query in enumerate(queries_by_slot):
        for row in db.session.execute(query):
            result.setdefault(key_of(row), [None, None])[slot] = int(row.total) / int(row.m)
    return {key: tuple(value) for key, value in result.items()}


def medians_within(period: Period, within: list[int] | None, *, category_id: int | None = None,
                   by_category: bool = False) -> dict:
    """Median microseconds (to respond, to resolve) over one set of units: {None: (...)},
    or {category_id: (...)} with by_category."""
    built = []
    for end, present in _DURATIONS:
        keys = [T.category_id.label("k")] if by_category else [sa.literal(0).label("k")]
        values = sa.select(*keys, us_between(T.created_at, end).label("v")).where(_in_period(period), present)
        if within is not None:
            values = values.where(T.unit_id.in_(within))
        if category_id is not None:
            values = values.where(T.category_id == category_id)
        built.append(_middle(values.subquery("v"), ["k"]))
    return _collect(built, lambda row: row.k if by_category else None)


def medians_by_unit(period: Period) -> dict:
    """Median microseconds (to respond, to resolve) over every unit's subtree: {unit_id: (...)}.

    Each ticket joins the ancestors its unit's path names (a small derived table of
    (unit, ancestor) pairs), so one window query covers every subtree at once.
    """
    u, a = aliased(Unit), aliased(Unit)
    # DISTINCT (the pairs are distinct anyway) keeps MySQL from merging this derived table
    # into the outer join: it is materialised once and probed by unit_id.
    pairs = sa.select(u.id.label("unit_id"), a.id.label("ancestor_id")) \
        .join(a, u.path.startswith(a.path)).distinct().subquery("pairs")
    built = []
    for end, present in _DURATIONS:
        # STRAIGHT_JOIN: read the period's tickets by created_at, then their pairs; left to
        # itself MariaDB may start from the pairs and read every ticket of each unit.
        values = sa.select(pairs.c.ancestor_id.label("k"), us_between(T.created_at, end).label("v")) \
            .select_from(T).join(pairs, pairs.c.unit_id == T.unit_id).where(_in_period(period), present) \
            .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        built.append(_middle(values.subquery("v"), ["k"]))
    return _collect(built, lambda row: row.k)


_ROOMY = {"tmp_table_size": 256 * 2**20, "max_heap_table_size": 256 * 2**20, "sort_buffer_size": 32 * 2**20}


@contextmanager
def roomy_session():
    """On MySQL, room in memory for the window sorts of a long period (this session only,
    restored afterwards): with the server defaults (16 MiB temporary tables, 2 MiB sort
    buffer) a year of a large district spills to disk and takes twice as long."""
    if db.session.get_bind().dialect.name != "mysql":
        yield
        return
    names = list(_ROOMY)
    before = db.session.execute(sa.text("SELECT " + ", ".join(f"@@SESSION.{n}" for n in names))).one()
    assignments = ", ".join(f"{n} = :{n}" for n in names)
    db.session.execute(sa.text("SET SESSION " + assignments), _ROOMY)
    try:
        yield
    finally:
        db.session.execute(sa.text("SET SESSION " + assignments), dict(zip(names, before)))


# --- the unit tree -----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    depth: int
    path: str

    @property
    def lineage(self) -> list[int]:
        """Its own id and every ancestor's, from the path."""
        return [int(part) for part in self.path.strip("/").split("/") if part]


def unit_rows(within: str | None = None) -> list[UnitRow]:
    query = sa.select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.depth, Unit.path) \
        .order_by(Unit.depth, Unit.code)
    if within is not None:
        query = query.where(Unit.path.startswith(within, autoescape=True))
    return [UnitRow(*row) for row in db.session.execute(query)]


def scope(tree: list[UnitRow]) -> list[int] | None:
    """The unit ids to filter tickets by, or None when the tree is every unit."""
    everything = db.session.execute(sa.select(sa.func.count()).select_from(Unit)).scalar_one()
    return None if len(tree) >= everything else [u.id for u in tree]


def subtree(tree: list[UnitRow], unit) -> list[UnitRow]:
    return [u for u in tree if u.path.startswith(unit.path)]


def rollup(units: list[UnitRow], own: dict[int, Counters]) -> dict[int, Counters]:
    """Each unit's counters over its subtree, from the counters of tickets routed to each unit."""
    known = {u.id for u in units}
    totals = {u.id: Counters() for u in units}
    lineage = {u.id: u.lineage for u in units}
    for unit_id, counters in own.items():
        for ancestor in lineage.get(unit_id, [unit_id]):
            if ancestor in known:
                totals[ancestor] = totals[ancestor] + counters
    return totals


def ranks_among_siblings(units: list[UnitRow], totals: dict[int, Counters], min_tickets: int = rates.MIN_TICKETS,
                         weights: dict | None = None) -> dict[int, int | None]:
    groups: dict[int | None, list] = {}
    for u in units:
        c = totals[u.id]
        groups.setdefault(u.parent_id, []).append(
            (u.id, rates.score(c, min_tickets, weights), rates.is_ranked(c, min_tickets, weights), c.received, u.code))
    result: dict[int, int | None] = {}
    for entries in groups.values():
        result.update(rates.rank(entries))
    return result


# --- what the API answers ----------------------------------------------------------------


def resolve_period(text: str | None, now: datetime | None = None) -> Period:
    """The period asked for; by default the current Shanghai month (to date)."""
    if text is None or text == "":
        return single(month_of(now or utcnow()))
    return parse_period(text)


def resolve_category(code: str | None) -> Category | None:
    if not code:
        return None
    category = db.session.execute(sa.select(Category).where(Category.code == code)).scalar_one_or_none()
    if category is None:
        raise Invalid("问题分类不存在", key="unknown_category", errors={"category": code})
    return category


def unit_brief(unit) -> dict:
    return {"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind}


def category_brief(category: Category | None) -> dict | None:
    return None if category is None else {"id": category.id, "code": category.code, "name": category.name}


def period_fields(period: Period, as_of: datetime) -> dict:
    return {"period": str(period), "period_label": period.label, "starts_at": period.start.isoformat(),
            "ends_at": period.end.isoformat(), "as_of": as_of.isoformat()}


def rules() -> dict:
    return {"min_tickets": rates.MIN_TICKETS, "weights": dict(rates.WEIGHTS), "definitions": dict(rates.DEFINITIONS)}


def unit_card(unit_id: int, period_text: str | None = None, category_code: str | None = None,
              now: datetime | None = None) -> dict:
    """One unit's report card over its subtree, and its rank among its siblings."""
    now = now or utcnow()
    unit = get_unit(unit_id)
    period = resolve_period(period_text, now)
    category = resolve_category(category_code)
    cat_id = category.id if category else None
    # Every unit under the parent (under no parent: every unit), so each sibling's subtree rolls up.
    parent_path = unit.path[: unit.path.rstrip("/").rfind("/") + 1] if unit.parent_id else None
    tree = unit_rows(parent_path)
    siblings = [u for u in tree if u.parent_id == unit.parent_id]
    totals = rollup(tree, aggregate(period, now, within=scope(tree), category_id=cat_id))
    ranks = ranks_among_siblings(siblings, totals)
    med = medians_within(period, scope(subtree(tree, unit)), category_id=cat_id).get(None, (None, None))
    card = rates.numbers(totals.get(unit.id, Counters()), *med)
    card.update(
        unit=unit_brief(unit), category=category_brief(category), rank=ranks.get(unit.id),
        ranked_among=sum(1 for r in ranks.values() if r is not None),
        **period_fields(period, now), **rules(),
    )
    return card


def ranking(unit_id: int, period_text: str | None = None, category_code: str | None = None,
            now: datetime | None = None) -> dict:
    """The unit's direct children, ranked by the composite score (unranked ones last)."""
    now = now or utcnow()
    unit = get_unit(unit_id)
    period = resolve_period(period_text, now)
    category = resolve_category(category_code)
    tree = unit_rows(unit.path)
    totals = rollup(tree, aggregate(period, now, within=scope(tree), category_id=category.id if category else None))
    children = [u for u in tree if u.parent_id == unit.id]
    ranks = ranks_among_siblings(children, totals)
    items = []
    for child in children:
        card = rates.numbers(totals[child.id])
        card.update(unit=unit_brief(child), rank=ranks[child.id])
        items.append(card)
    items.sort(key=lambda i: (i["rank"] is None, i["rank"] or 0, -i["received"], i["unit"]["code"]))
    return {"unit": unit_brief(unit), "category": category_brief(category), "items": items,
            **period_fields(period, now), **rules()}


def category_cards(unit_id: int, period_text: str | None = None, now: datetime | None = None) -> dict:
    """The unit's numbers split by category (categories with tickets in the period)."""
    now = now or utcnow()
    unit = get_unit(unit_id)
    period = resolve_period(period_text, now)
    within = scope(unit_rows(unit.path))
    counters = aggregate(period, now, within=within, group="category")
    med = medians_within(period, within, by_category=True)
    categories = {c.id: c for c in db.session.execute(
        sa.select(Category).where(Category.id.in_(list(counters)))).scalars()}
    items = []
    for category_id, c in counters.items():
        card = rates.numbers(c, *med.get(category_id, (None, None)))
        card["category"] = category_brief(categories[category_id])
        items.append(card)
    items.sort(key=lambda i: (-i["received"], i["category"]["code"]))
    return {"unit": unit_brief(unit), "items": items, **period_fields(period, now), **rules()}


# --- the office console's dashboard ---------------------------------------------------------


def rollup_by_category(units: list[UnitRow], pairs: dict[tuple[int, int], Counters]) -> dict[tuple[int, int], Counters]:
    """Each unit's counters per category over its subtree (the categories a subtree has)."""
    by_category: dict[int, dict[int, Counters]] = {}
    for (unit_id, category_id), counters in pairs.items():
        by_category.setdefault(category_id, {})[unit_id] = counters
    out = {}
    for category_id, own in by_category.items():
        for unit_id, total in rollup(units, own).items():
            if total.received:
                out[(unit_id, category_id)] = total
    return out


def frozen_categories(unit_id: int, months: list[Month]) -> list[dict]:
    """The unit's categories summed over these months' frozen monthly report cards (their
    counters; a month not frozen adds nothing), most received first. One indexed read."""
    from .models import MONTHLY, ReportSnapshot, ReportSnapshotCategory

    names = [str(m) for m in months]
    rows = db.session.execute(
        sa.select(ReportSnapshotCategory.category_id, ReportSnapshotCategory.counters)
        .join(ReportSnapshot, ReportSnapshot.id == ReportSnapshotCategory.snapshot_id)
        .where(ReportSnapshotCategory.unit_id == unit_id, ReportSnapshot.kind == MONTHLY,
               ReportSnapshot.first_month == ReportSnapshot.last_month, ReportSnapshot.first_month.in_(names))
    ).all()
    totals: dict[int, Counters] = {}
    for category_id, counters in rows:
        totals[category_id] = totals.get(category_id, Counters()) + Counters.from_row(counters)
    categories = {c.id: c for c in db.session.execute(
        sa.select(Category).where(Category.id.in_(list(totals)))).scalars()}
    items = []
    for category_id, c in totals.items():
        card = rates.numbers(c)
        card["category"] = category_brief(categories.get(category_id))
        items.append(card)
    items.sort(key=lambda i: (-i["received"], i["category"]["code"] if i["category"] else ""))
    return items


def monthly_series(unit_id: int, last: Month, count: int = 12) -> list[dict]:
    """The unit's three rates month by month, from the frozen monthly report cards
    (一月一督查), oldest first: `count` months ending with `last`; a month not frozen has
    None for its rates. One indexed read (the unit's rows, by unit_id)."""
    from .models import MONTHLY, ReportSnapshot, ReportSnapshotUnit

    months = [last]
    while len(months) < count:
        months.insert(0, months[0].previous())
    names = [str(m) for m in months]
    rows = db.session.execute(
        sa.select(ReportSnapshot.first_month, ReportSnapshotUnit)
        .join(ReportSnapshot, ReportSnapshot.id == ReportSnapshotUnit.snapshot_id)
        .where(ReportSnapshotUnit.unit_id == unit_id, ReportSnapshot.kind == MONTHLY,
               ReportSnapshot.first_month == ReportSnapshot.last_month, ReportSnapshot.first_month.in_(names))
    ).all()
    by_month = {month: row for month, row in rows}
    series = []
    for month in months:
        row = by_month.get(str(month))
        figures = rates.numbers(row.counters) if row is not None else {}
        series.append({"month": str(month), "label": f"{month.year}年{month.month}月", "frozen": row is not None,
                       "received": figures.get("received"), "response_rate": figures.get("response_rate"),
                       "resolution_rate": figures.get("resolution_rate"),
                       "satisfaction_rate": figures.get("satisfaction_rate")})
    return series


def latest_monthly_ranking(unit_id: int) -> dict | None:
    """The units directly under this one as the latest monthly report card ranked them, or
    None before the first one is frozen."""
    from .models import MONTHLY, ReportSnapshot, ReportSnapshotUnit

    snapshot = db.session.execute(
        sa.select(ReportSnapshot).where(ReportSnapshot.kind == MONTHLY).order_by(ReportSnapshot.id.desc()).limit(1)
    ).scalar()
    if snapshot is None:
        return None
    rows = db.session.execute(
        sa.select(ReportSnapshotUnit).where(ReportSnapshotUnit.snapshot_id == snapshot.id,
                                            ReportSnapshotUnit.parent_id == unit_id)).scalars().all()
    items = []
    for row in rows:
        figures = rates.numbers(row.counters, row.median_response_us, row.median_resolution_us)
        figures.update(unit={"id": row.unit_id, "code": row.unit_code, "name": row.unit_name}, rank=row.rank,
                       score=None if row.score is None else round(row.score, 4))
        items.append(figures)
    items.sort(key=lambda i: (i["rank"] is None, i["rank"] or 0, -i["received"], i["unit"]["code"]))
    return {"title": snapshot.title, "period": snapshot.period, "items": items}
