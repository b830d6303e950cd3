"""Receipts: which sends of a claim WeChat accepted, written the moment it answers.

The worker commits a batch's outcomes in one transaction after the batch is sent. A worker
killed in between would leave rows `sending` that WeChat already accepted; the next worker
to take them over reads this claim's receipts and records those rows as sent without
sending them again. Receipts live in Redis (one set per claim token, gone after a day);
without Redis, or while it is unreachable, the worker commits each accepted row's state in
the database on its own instead (`worker._record_now`), as safe and slower.
"""
from __future__ import annotations

import logging

import redis
from flask import current_app

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600  # far beyond any lease: a claim is taken over long before
_EXT = "gongzhi.notifications.receipts"


class Receipts:
    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.prefix = prefix

    def _key(self, token: str) -> str:
        return f"{self.prefix}:outbox:accepted:{token}"

    def accepted(self, token: str, ids: list[int]) -> bool:
        """Note that WeChat accepted these rows of the claim; False when Redis did not take it."""
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.sadd(self._key(token), *ids)
            pipe.expire(self._key(token), KEEP_SECONDS)
            pipe.execute()
        except redis.RedisError as err:
            log.warning("outbox receipts: redis unavailable (%s); committing each send instead", type(err).__name__)
            return False
        return True

    def of(self, tokens: set[str]) -> dict[str, set[int]] | None:
        """The accepted rows of earlier claims, by token; None when Redis cannot say."""
        if not tokens:
            return {}
        try:
            pipe = self.client.pipeline(transaction=False)
            ordered = sorted(tokens)
            for token in ordered:
                pipe.smembers(self._key(token))
            found = pipe.execute()
        except redis.RedisError as err:
            log.warning("outbox receipts: redis unavailable (%s); rows taken over are sent again", type(err).__name__)
            return None
        return {token: {int(x) for x in members} for token, members in zip(ordered, found, strict=True)}

    def forget(self, token: str) -> None:
        try:
            self.client.delete(self._key(token))
        except redis.RedisError:
            pass  # it expires on its own


def receipts() -> Receipts | None:
    """This app's receipt store, or None without REDIS_URL."""
    ext = current_app.extensions
    if _EXT not in ext:
        cfg = current_app.config
        url = cfg.get("REDIS_URL") or ""
        ext[_EXT] = Receipts(url, cfg.get("RATELIMIT_KEY_PREFIX") or "gongzhi") if url else None
    return ext[_EXT]
