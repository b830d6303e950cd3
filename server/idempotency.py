"""Idempotency keys: a create request retried with the same key and body gives the first
result, never a second one; the same key with another body is refused.

A domain names its scope ("tickets.report", "topics.create" ...) and calls, before it
writes anything: `replay` (an earlier answer's id, or None), then `claim` (False when a
concurrent request holds the key), and after writing, `record` with the new row's id.
The claim's INSERT holds the key's index entry until the transaction ends, so a concurrent
retry waits on it, then finds the key taken and, reading committed rows, its result.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .db_setup import insert_skipping_duplicates
from .errors import Conflict, Invalid
from .extensions import db
from .timeutil import UTCDateTime, utcnow

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


class IdempotencyKey(db.Model):  # type: ignore[name-defined]
    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(64))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    result_id: Mapped[int | None] = mapped_column()  # the row the first request created
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def check_key(key: str | None) -> str | None:
    if key is not None and not KEY_PATTERN.match(key):
        raise Invalid("Idempotency-Key 应为 8 到 64 位字母、数字或 -_.:", key="invalid_idempotency_key")
    return key


def fingerprint(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


_keys = IdempotencyKey.__table__
_USED = sa.select(_keys.c.fingerprint, _keys.c.result_id).where(
    _keys.c.user_id == sa.bindparam("user_id"), _keys.c.scope == sa.bindparam("scope"),
    _keys.c.key == sa.bindparam("key"))
_RECORD = _keys.update().where(
    _keys.c.user_id == sa.bindparam("b_user"), _keys.c.scope == sa.bindparam("b_scope"),
    _keys.c.key == sa.bindparam("b_key")).values(result_id=sa.bindparam("b_result"))


def replay(user_id: int, scope: str, key: str, fp: str) -> int | None:
    """The id the first request with this key created; None when the key is new."""
    row = db.session.connection().execute(_USED, {"user_id": user_id, "scope": scope, "key": key}).first()
    if row is None:
        return None
    if row.fingerprint != fp:
        raise Invalid("同一个 Idempotency-Key 对应了不同的内容", key="idempotency_key_reused")
    if row.result_id is None:
        raise Conflict("请求正在处理中，请稍后再试", key="conflict")
    return row.result_id


def claim(user_id: int, scope: str, key: str, fp: str) -> bool:
    """Take the key for this request; False when another request holds it."""
    claimed = db.session.connection().execute(insert_skipping_duplicates(_keys, "user_id", "scope", "key"), {
        "user_id": user_id, "scope": scope, "key": key, "fingerprint": fp, "result_id": None,
        "created_at": utcnow()})
    return claimed.rowcount == 1


def record(user_id: int, scope: str, key: str, result_id: int) -> None:
    db.session.connection().execute(_RECORD, {"b_user": user_id, "b_scope": scope, "b_key": key,
                                              "b_result": result_id})
