"""Template filters: rates as percentages, times in Beijing time."""
from __future__ import annotations

from datetime import datetime

from ..timeutil import SHANGHAI, as_utc
from .web import bp


@bp.app_template_filter("pct")
def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@bp.app_template_filter("bjtime")
def bjtime(value) -> str:
    """An ISO 8601 text or a datetime, in Beijing time: 2026-12-06 19:30."""
    if not value:
        return "—"
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return as_utc(when).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("hours")
def hours(value) -> str:
    return "—" if value is None else f"{value:.1f} 小时"
