"""Keyset pagination: an opaque cursor naming the last row seen, never an OFFSET."""
from __future__ import annotations

import base64
import json

from .errors import Invalid

# Row ids fit a signed 32-bit INT; anything larger names no row (and must not overflow a driver).
ID_MAX = 2**31 - 1


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise Invalid("分页参数无效", key="invalid_cursor") from None
    if not isinstance(values, list) or len(values) != arity or not all(
        isinstance(v, (int, float, str)) and not isinstance(v, bool) and (not isinstance(v, int) or abs(v) <= ID_MAX)
        for v in values
    ):
        raise Invalid("分页参数无效", key="invalid_cursor")
    return values


def page(rows: list, limit: int, key) -> dict:
    """`rows` holds up to limit+1 rows; the extra one only says there is a next page."""
    items = rows[:limit]
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return {"items": items, "next_cursor": next_cursor}
