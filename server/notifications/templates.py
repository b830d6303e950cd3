"""Subscribe-message templates: what each says, and every value fitted to its field type.

WeChat refuses a whole message (47003) when one value breaks its field's rule, so values
are fitted before sending: text is shortened with an ellipsis, numbers keep their digits,
times are written the way WeChat accepts them. Pure functions, no Flask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from ..timeutil import SHANGHAI, as_utc


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    # WeChat data key -> the key of our payload that fills it
    fields: dict[str, str] = field(default_factory=dict)
    page: str = "pages/ticket/ticket"


TEMPLATES = {t.name: t for t in [
    Template("ticket_accepted", "反映已受理", {"thing1": "category", "phrase2": "status", "thing3": "unit", "time4": "time"}),
    Template("ticket_answered", "反映已答复", {"thing1": "category", "phrase2": "status", "thing3": "note", "time4": "time"}),
    Template("rate_reminder", "请评价办理结果", {"thing1": "category", "thing2": "note", "time3": "time"}),
    Template("ticket_returned", "反映已退回", {"thing1": "category", "phrase2": "status", "thing3": "note"}),
    Template("new_report", "新的群众反映", {"thing1": "category", "thing2": "address", "time3": "time"}),
    Template("task_assigned", "新的任务", {"thing1": "category", "thing2": "note", "time3": "due"}),
    Template("deadline_soon", "任务即将到期", {"thing1": "category", "time2": "due", "thing3": "note"}),
    Template("escalated", "超期督办", {"thing1": "category", "thing2": "unit", "time3": "due"}),
    Template("dissatisfied", "群众不满意", {"thing1": "category", "phrase2": "rating", "thing3": "note"}),
    Template("vote_opened", "投票开始", {"thing1": "title", "time2": "due"}, page="pages/topics/vote"),
    Template("vote_closing", "投票即将截止", {"thing1": "title", "time2": "due"}, page="pages/topics/vote"),
    Template("topic_published", "议题结果公开", {"thing1": "title", "phrase2": "status", "thing3": "note"},
             page="pages/topics/topic"),
    Template("monthly_supervision", "月度督查", {"thing1": "unit", "number2": "overdue", "number3": "dissatisfied", "thing4": "note"},
             page="pages/staff/staff"),
]}

_KEY = re.compile(r"^([a-z_]+?)(\d+)$")
_CJK = re.compile(r"[\u3400-\u9fff]")
ELLIPSIS = "…"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _when(value) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value).astimezone(SHANGHAI)
    try:
        return as_utc(datetime.fromisoformat(str(value))).astimezone(SHANGHAI)
    except ValueError:
        return None


def fit(key: str, value) -> str:
    """The value as WeChat accepts it for a data key such as thing1, phrase2, time3."""
    match = _KEY.match(key)
    kind = match.group(1) if match else "thing"
    text = "" if value is None else str(value)
    if kind in ("time", "date"):
        when = _when(value)
        if when is None:
            return _shorten(text, 20) or "-"
        return when.strftime("%Y年%m月%d日 %H:%M" if kind == "time" else "%Y年%m月%d日")
    if kind == "number":
        digits = re.sub(r"[^0-9.]", "", text)
        return digits[:32] or "0"
    if kind == "letter":
        return re.sub(r"[^A-Za-z]", "", text)[:32] or "x"
    if kind == "character_string":
        return re.sub(r"[^\x21-\x7e]", "", text)[:32] or "-"
    if kind == "phone_number":
        return re.sub(r"[^0-9+\-() ]", "", text)[:17] or "-"
    if kind == "car_number":
        return text[:8] or "-"
    if kind == "symbol":
        return text[:5] or "-"
    if kind == "phrase":
        return re.sub(r"[^\u3400-\u9fff]", "", text)[:5] or "通知"
    if kind == "name":
        limit = 10 if _CJK.search(text) else 20
        return _shorten(text, limit) or "-"
    return _shorten(text, 20) or "无"  # thing and anything unknown


def message_data(template: Template, payload: dict) -> dict:
    return {key: {"value": fit(key, payload.get(source))} for key, source in template.fields.items()}


def fit_bytes(text: str, limit: int) -> str:
    """Shorten to at most `limit` UTF-8 bytes (WeCom counts bytes)."""
    data = text.encode()
    if len(data) <= limit:
        return text
    cut = data[: limit - len(ELLIPSIS.encode())].decode("utf-8", "ignore")
    return cut + ELLIPSIS
