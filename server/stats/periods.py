"""Report periods: calendar months in Asia/Shanghai, as UTC [start, end) ranges. Pure.

A ticket received at 00:30 on 1 November Beijing time (16:30 on 31 October in UTC)
belongs to November: every period edge is midnight in Shanghai.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import Invalid
from ..timeutil import SHANGHAI, as_utc

MAX_MONTHS = 24
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def _bad(detail: str) -> Invalid:
    return Invalid(detail, key="invalid_period")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    def next(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), 12 if self.month == 1 else self.month - 1)

    def start(self) -> datetime:
        """Midnight on the 1st in Shanghai, as aware UTC."""
        return datetime(self.year, self.month, 1, tzinfo=SHANGHAI).astimezone(timezone.utc)


@dataclass(frozen=True)
class Period:
    """One calendar month or a run of them, first and last included."""

    first: Month
    last: Month

    @property
    def start(self) -> datetime:
        return self.first.start()

    @property
    def end(self) -> datetime:
        return self.last.next().start()

    @property
    def months(self) -> int:
        return self.last.index - self.first.index + 1

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"

    @property
    def label(self) -> str:
        """Chinese: 2026年10月, 2026年9月至10月, 2025年12月至2026年1月."""
        first = f"{self.first.year}年{self.first.month}月"
        if self.first == self.last:
            return first
        if self.first.year == self.last.year:
            return f"{first}至{self.last.month}月"
        return f"{first}至{self.last.year}年{self.last.month}月"

    def ended(self, now: datetime) -> bool:
        return as_utc(now) >= self.end

    def contains(self, when: datetime) -> bool:
        return self.start <= as_utc(when) < self.end


def parse_month(text: str) -> Month:
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise _bad("月份格式应为 YYYY-MM，例如 2026-10")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise _bad("月份应在 01 到 12 之间")
    if not 1970 <= year <= 9998:
        raise _bad("年份超出范围")
    return Month(year, month)


def parse_period(text: str) -> Period:
    """"2026-10" (one month) or "2026-09..2026-10" (first and last month, at most 24)."""
    if not isinstance(text, str) or not text.strip():
        raise _bad("请指定统计周期，例如 2026-10 或 2026-09..2026-10")
    first_text, sep, last_text = text.strip().partition("..")
    first = parse_month(first_text)
    last = parse_month(last_text) if sep else first
    if last < first:
        raise _bad("统计周期的结束月份不能早于开始月份")
    period = Period(first, last)
    if period.months > MAX_MONTHS:
        raise _bad(f"统计周期最长 {MAX_MONTHS} 个月")
    return period


def month_of(when: datetime) -> Month:
    """The Shanghai calendar month an instant falls in."""
    local = as_utc(when).astimezone(SHANGHAI)
    return Month(local.year, local.month)


def single(month: Month) -> Period:
    return Period(month, month)
