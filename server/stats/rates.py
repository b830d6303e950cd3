"""The report card's definitions, rates, composite score and ranking. Pure: no Flask, no SQL.

The SQL side (queries.py) counts tickets into `Counters`; everything a reader sees is
derived here from those integers, so live numbers and frozen snapshots agree exactly and
SQLite and MySQL give the same figures.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MIN_TICKETS = 5
WEIGHTS = {"response": 0.3, "resolution": 0.4, "satisfaction": 0.3}
# Returned for these reasons the ticket was never the unit's to resolve.
NOT_TO_RESOLVE_REASONS = ("out_of_scope", "invalid", "duplicate")
US_PER_HOUR = 3_600_000_000

DEFINITIONS = {
    "received": "受理量：统计周期内（北京时间自然月）反映、现由本单位及下级单位承办的问题数",
    "response_rate": "响应率 = 在响应时限内受理、退回或转办的问题数 ÷ 应响应的问题数"
                     "（应响应 = 受理量减去在响应时限内撤回且未被响应的问题）",
    "resolution_rate": "解决率 = 已办结的问题数 ÷ 应办结的问题数"
                       "（应办结 = 受理量减去撤回的、以不属于职责范围、无效或重复退回的问题；"
                       "以需补充信息或不予采纳退回的仍计入应办结）",
    "on_time_resolution_rate": "按期办结率 = 在办结时限内办结的问题数 ÷ 应办结的问题数（重办的以重办时限为准）",
    "satisfaction_rate": "满意率 = （满意 + 基本满意）÷ 反映人已评价的问题数；"
                         "首次不满意触发重办，以重办后的评价为准；办结后未评价的另列为“未评价”",
    "unrated": "未评价：已办结但反映人尚未评价的问题数，不计入满意率",
    "overdue": "超时：超过响应时限未响应或响应晚于时限，或超过办结时限仍未办结或办结晚于时限的问题数",
    "redo": "重办：因反映人不满意而重新办理的问题数",
    "response_hours": "响应时长：从反映到首次受理、退回或转办的小时数（平均值与中位数）",
    "resolution_hours": "办结时长：从反映到办结的小时数（平均值与中位数，含重办）",
    "score": "综合得分 = 0.3×响应率 + 0.4×解决率 + 0.3×满意率；分母不足最低件数的比率不参与计算，"
             "其权重按其余比率比例分配",
    "ranked": "受理量不足最低件数（5 件）的单位照常显示，但不参与排名；排名在同一上级单位的下级单位之间进行",
}


@dataclass
class Counters:
    """What SQL counts for a set of tickets; adding two gives the counts of the union."""

    received: int = 0
    withdrawn_early: int = 0      # withdrawn before respond_by, never responded
    responded_in_time: int = 0
    not_to_resolve: int = 0       # withdrawn, or returned out_of_scope / invalid / duplicate
    resolved: int = 0
    resolved_on_time: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    unrated: int = 0
    overdue: int = 0
    redo: int = 0
    responded: int = 0
    respond_us: int = 0           # sum of microseconds from report to first response
    resolve_us: int = 0           # sum of microseconds from report to resolution

    @classmethod
    def from_row(cls, row) -> "Counters":
        """From a SQL row or mapping (SUMs may come back as Decimal or None)."""
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
        return cls(**{f.name: int(get(f.name) or 0) for f in fields(cls)})

    def __add__(self, other: "Counters") -> "Counters":
        return Counters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def response_base(self) -> int:
        return self.received - self.withdrawn_early

    @property
    def should_resolve(self) -> int:
        return self.received - self.not_to_resolve

    @property
    def rated(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied


def rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def hours(microseconds: float | None) -> float | None:
    return None if microseconds is None else round(microseconds / US_PER_HOUR, 2)


def _rates(c: Counters) -> dict[str, tuple[float | None, int]]:
    """Each scored rate with its denominator."""
    return {
        "response": (rate(c.responded_in_time, c.response_base), c.response_base),
        "resolution": (rate(c.resolved, c.should_resolve), c.should_resolve),
        "satisfaction": (rate(c.satisfied + c.basically_satisfied, c.rated), c.rated),
    }


def score(c: Counters, min_tickets: int = MIN_TICKETS, weights: dict | None = None) -> float | None:
    """The weighted mean of the rates whose denominator reaches min_tickets; None when none does."""
    weights = weights or WEIGHTS
    used = [(weights[name], value) for name, (value, base) in _rates(c).items()
            if value is not None and base >= min_tickets]
    total = sum(w for w, _ in used)
    if not used or total == 0:
        return None
    return sum(w * v for w, v in used) / total


def is_ranked(c: Counters, min_tickets: int = MIN_TICKETS, weights: dict | None = None) -> bool:
    return c.received >= min_tickets and score(c, min_tickets, weights) is not None


def rank(entries: list[tuple[object, float | None, bool, int, str]]) -> dict[object, int | None]:
    """Competition ranking ("1, 2, 2, 4") of (key, score, ranked, received, code) entries.

    Only ranked entries get a rank; higher score first. Equal scores share a rank; the
    order among them (more tickets first, then code) is for display only.
    """
    ranked = sorted((e for e in entries if e[2] and e[1] is not None), key=lambda e: (-round(e[1], 9), -e[3], e[4]))
    result: dict[object, int | None] = {e[0]: None for e in entries}
    previous, position = None, 0
    for index, (key, value, _, _, _) in enumerate(ranked, start=1):
        if previous is None or round(value, 9) != previous:
            position, previous = index, round(value, 9)
        result[key] = position
    return result


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def numbers(c: Counters, median_response_us: float | None = None, median_resolution_us: float | None = None,
            min_tickets: int = MIN_TICKETS, weights: dict | None = None) -> dict:
    """Every figure of a report card, rates as fractions 0..1 (None when the denominator is 0)."""
    s = score(c, min_tickets, weights)
    return {
        "received": c.received,
        "response_base": c.response_base,
        "responded_in_time": c.responded_in_time,
        "response_rate": _round(rate(c.responded_in_time, c.response_base)),
        "should_resolve": c.should_resolve,
        "resolved": c.resolved,
        "resolution_rate": _round(rate(c.resolved, c.should_resolve)),
        "resolved_on_time": c.resolved_on_time,
        "on_time_resolution_rate": _round(rate(c.resolved_on_time, c.should_resolve)),
        "rated": c.rated,
        "satisfied": c.satisfied,
        "basically_satisfied": c.basically_satisfied,
        "dissatisfied": c.dissatisfied,
        "satisfaction_rate": _round(rate(c.satisfied + c.basically_satisfied, c.rated)),
        "unrated": c.unrated,
        "overdue": c.overdue,
        "redo": c.redo,
        "avg_response_hours": hours(c.respond_us / c.responded) if c.responded else None,
        "median_response_hours": hours(median_response_us),
        "avg_resolution_hours": hours(c.resolve_us / c.resolved) if c.resolved else None,
        "median_resolution_hours": hours(median_resolution_us),
        "score": _round(s),
        "ranked": c.received >= min_tickets and s is not None,
    }
