"""Rows answered as one JSON object each, built by the database.

PyMySQL parses every column of a result in pure Python: its description once per
statement, then each value of each row. A read that answers one `json_object(...)` column
instead costs the driver one value a row, and orjson (`jsonio.loads`, in C) does the
rest: for a page of tickets, most of what the driver did. SQLite and MySQL/MariaDB call it
json_object, PostgreSQL json_build_object. Values come back as JSON has them: times as text, flags as
0/1, a JSON column nested (MySQL) or as its text (SQLite).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _JsonObject(FunctionElement):
    name = "json_object"
    type = sa.Text()
    inherit_cache = True


@compiles(_JsonObject)
def _json_object(element, compiler, **kw):
    return "json_object(%s)" % compiler.process(element.clauses, **kw)


@compiles(_JsonObject, "postgresql")
def _json_build_object(element, compiler, **kw):
    return "json_build_object(%s)" % compiler.process(element.clauses, **kw)


def utc(text: str) -> datetime:
    """A UTC time as json_object answers it ("2026-11-23 02:30:00.123456"), aware."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def utc_iso(text: str) -> str:
    """A UTC time as json_object answers it, written as `utc(text).isoformat()` would write
    it ("2026-11-23T02:30:00.123456+00:00", no fraction when it is zero) without building
    the datetime: a page of tickets shows a hundred times."""
    if len(text) == 26 and text[10] == " " and text[19] == ".":
        fraction = text[19:]
        return f"{text[:10]}T{text[11:19]}{'' if fraction == '.000000' else fraction}+00:00"
    return utc(text).isoformat()


def json_object(columns: Iterable) -> _JsonObject:
    """One JSON object of these columns (or labelled expressions), keyed by their keys."""
    return _JsonObject(*[part for c in columns for part in (sa.literal_column(f"'{c.key}'"), c)])
