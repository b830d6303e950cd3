"""The one process cache: values kept per app for a bounded time, dropped whole when this
process writes a row of a model the cache watches.

Rows that change a few times a year (units, categories, boundaries) are read by every
request; each process keeps them instead of joining them into every query. A change made
by another process (the CLI, another worker) shows within the cache's time limit; one made
in this process shows at once.

    units = ProcessCache("units", watch=(Unit, UnitResponsible))
    info = units.get(unit_id, lambda: load(unit_id))
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable, Iterable

from flask import current_app, has_app_context
from sqlalchemy import event

_ALL: list["ProcessCache"] = []


class ProcessCache:
    def __init__(self, name: str, *, watch: Iterable[type] = (), ttl_setting: str | None = "UNIT_LOCATOR_TTL_SECONDS",
                 max_entries: int = 200_000):
        """`ttl_setting`: the config key holding the seconds an entry lives (None: until
        dropped). Past `max_entries` the cache starts over."""
        self.key = f"gongzhi.cache.{name}"
        self.watch = tuple(watch)
        self.ttl_setting = ttl_setting
        self.max_entries = max_entries
        self.lock = threading.Lock()
        _ALL.append(self)
        _watch(self)

    def _entries(self) -> dict:
        found = current_app.extensions.get(self.key)
        if found is None:
            found = current_app.extensions.setdefault(self.key, {})
        return found

    def _fresh(self, born: float, now: float) -> bool:
        return self.ttl_setting is None or now - born < current_app.config[self.ttl_setting]

    def peek(self, key: Hashable) -> Any:
        """The kept value, or None when absent or stale."""
        hit = self._entries().get(key)
        return hit[0] if hit is not None and self._fresh(hit[1], time.monotonic()) else None

    def put(self, key: Hashable, value: Any) -> Any:
        entries = self._entries()
        with self.lock:
            if len(entries) >= self.max_entries:
                entries.clear()
            entries[key] = (value, time.monotonic())
        return value

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        found = self.peek(key)
        return found if found is not None else self.put(key, load())

    def get_many(self, keys: Iterable[Hashable], load: Callable[[list], dict]) -> dict:
        """The values of these keys; the missing ones from one `load(missing)` call (a dict;
        keys it leaves out stay unknown)."""
        entries, now = self._entries(), time.monotonic()
        found, missing = {}, []
        for key in keys:
            hit = entries.get(key)
            if hit is not None and self._fresh(hit[1], now):
                found[key] = hit[0]
            elif key not in found:
                missing.append(key)
        if missing:
            for key, value in load(sorted(set(missing))).items():
                found[key] = self.put(key, value)
        return found

    def clear(self) -> None:
        if has_app_context():
            current_app.extensions.pop(self.key, None)


def forget_all() -> None:
    for cache in _ALL:
        cache.clear()


def _changed(cache: "ProcessCache"):
    def listener(_mapper, _connection, _target) -> None:
        """A watched row was written: drop the cache now, so the transaction that wrote it
        reads it anew. (One that then rolls back may leave a value it read in between for
        the cache's time limit: the rows these caches hold are written by staff, rarely.)"""
        cache.clear()

    return listener


def _watch(cache: "ProcessCache") -> None:
    """Mapper events on the watched models only: a flush of anything else, and every request
    that writes nothing, cost nothing (no session-wide listener)."""
    listener = _changed(cache)
    for model in cache.watch:
        for name in ("after_insert", "after_update", "after_delete"):
            event.listen(model, name, listener)
