"""The report card in SQL: one aggregate over the period's tickets, grouped by unit (or
category), rolled up the unit tree in Python over units; medians by window functions.

Nothing here loops over tickets in Python. Durations are integer microseconds computed
by the database (`us_between`), so SQLite and MySQL give the same sums and medians.
"""
from __future__ import annotations

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
from .periods import Period, parse_period, month_of, single
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
    return sa.and_(T.created_at >= period.start, T.created_at < period.end)


def _within(path: str):
    return T.unit_id.in_(sa.select(Unit.id).where(Unit.path.startswith(path, autoescape=True)))


def aggregate(period: Period, as_of: datetime, *, within: str | None = None, category_id: int | None = None,
              group: str | None = "unit") -> dict:
    """Counters of the period's tickets by unit_id, category_id or (group=None) in total."""
    p = _predicates(as_of)
    columns = [sa.func.count().label("received")]
    columns += [_count(cond).label(name) for name, cond in p.items()]
    columns += [
        sa.func.sum(sa.case((p["responded"], us_between(T.created_at, T.responded_at)), else_=0)).label("respond_us"),
        sa.func.sum(sa.case((p["resolved"], us_between(T.created_at, T.resolved_at)), else_=0)).label("resolve_us"),
    ]
    key = {"unit": T.unit_id, "category": T.category_id, None: None}[group]
    query = sa.select(*([key.label("key")] if key is not None else []), *columns).select_from(T) \
        .join(Category, Category.id == T.category_id).where(_in_period(period))
    if within is not None:
        query = query.where(_within(within))
    if category_id is not None:
        query = query.where(T.category_id == category_id)
    if key is not None:
        query = query.group_by(key)
    rows = db.session.execute(query).mappings().all()
    if key is None:
        return {None: Counters.from_row(dict(rows[0])) if rows else Counters()}
    return {row["key"]: Counters.from_row(dict(row)) for row in rows}


def medians(period: Period, *, ancestors: list[int] | None = None, category_id: int | None = None,
            by_category: bool = False) -> dict:
    """Median microseconds to respond and to resolve over each unit's subtree.

    Keys are unit ids (or (unit id, category id) with by_category). Each ticket joins the
    ancestors its unit's path names, then ROW_NUMBER/COUNT windows pick the middle one or
    two values of each partition; the median of two is their mean.
    """
    u, a = aliased(Unit), aliased(Unit)
    pairs = sa.select(u.id.label("unit_id"), a.id.label("ancestor_id")).join(a, u.path.startswith(a.path))
    if ancestors is not None:
        pairs = pairs.where(a.id.in_(ancestors))
    # DISTINCT (the pairs are distinct anyway) keeps MySQL from merging this into the outer
    # join: it is materialised once, with a key on unit_id, instead of a LIKE per ticket.
    pairs = pairs.distinct().subquery("pairs")
    result: dict = {}
    for slot, (end, present) in enumerate([(T.responded_at, T.responded_at.is_not(None)),
                                           (T.resolved_at, T.resolved_at.is_not(None))]):
        keys = [pairs.c.ancestor_id.label("k1")] + ([T.category_id.label("k2")] if by_category else [])
        values = sa.select(*keys, us_between(T.created_at, end).label("v")).select_from(T) \
            .join(pairs, pairs.c.unit_id == T.unit_id).where(_in_period(period), present)
        if category_id is not None:
            values = values.where(T.category_id == category_id)
        values = values.subquery("v")
        part = [values.c.k1] + ([values.c.k2] if by_category else [])
        ordered = sa.select(*part, values.c.v,
                            sa.func.row_number().over(partition_by=part, order_by=values.c.v).label("rn"),
                            sa.func.count().over(partition_by=part).label("n")).subquery("o")
        opart = [ordered.c.k1] + ([ordered.c.k2] if by_category else [])
        middle = sa.or_(ordered.c.rn * 2 == ordered.c.n, ordered.c.rn * 2 == ordered.c.n + 1,
                        ordered.c.rn * 2 == ordered.c.n + 2)
        query = sa.select(*opart, sa.func.sum(ordered.c.v).label("total"), sa.func.count().label("m")) \
            .where(middle).group_by(*opart)
        for row in db.session.execute(query):
            key = (row[0], row[1]) if by_category else row[0]
            result.setdefault(key, [None, None])[slot] = int(row.total) / int(row.m)
    return {key: tuple(value) for key, value in result.items()}


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
    totals = rollup(tree, aggregate(period, now, within=parent_path, category_id=cat_id))
    ranks = ranks_among_siblings(siblings, totals)
    med = medians(period, ancestors=[unit.id], category_id=cat_id).get(unit.id, (None, None))
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
    totals = rollup(tree, aggregate(period, now, within=unit.path, category_id=category.id if category else None))
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
    counters = aggregate(period, now, within=unit.path, group="category")
    med = medians(period, ancestors=[unit.id], by_category=True)
    categories = {c.id: c for c in db.session.execute(
        sa.select(Category).where(Category.id.in_(list(counters)))).scalars()}
    items = []
    for category_id, c in counters.items():
        card = rates.numbers(c, *med.get((unit.id, category_id), (None, None)))
        card["category"] = category_brief(categories[category_id])
        items.append(card)
    items.sort(key=lambda i: (-i["received"], i["category"]["code"]))
    return {"unit": unit_brief(unit), "items": items, **period_fields(period, now), **rules()}
