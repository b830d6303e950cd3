"""Rate limits on the endpoints worth abusing: login, report creation, uploads, Open311 POST.

Each limit is a setting (RATELIMIT_LOGIN, RATELIMIT_REPORT, RATELIMIT_UPLOAD,
RATELIMIT_OPEN311_POST) in flask-limiter's notation ("10/minute", "20/hour;100/day"),
read on each request. Counters live in Redis when REDIS_URL (or RATELIMIT_STORAGE_URI) is
set, so every worker on every box shares them; otherwise in process memory, which is
right only for a single process (`make run`, the tests).

If Redis fails, the limiter logs it and counts in this process's memory until Redis
answers again (`in_memory_fallback_enabled`); an error past that is logged and the request
goes through (`swallow_errors`): a broken counter never locks residents out.

A breach raises flask-limiter's 429, which `errors.py` answers in the one envelope
(`message: "rate_limited"`) with `Retry-After` (from `retry_after`, registered on the app).
"""
from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, request

from ..errors import RETRY_AFTER
from ..extensions import limiter

log = logging.getLogger(__name__)


def client_ip() -> str:
    """The caller's address (the real one behind nginx: see PROXY_FIX_HOPS)."""
    return request.remote_addr or "unknown"


def rate_limit(setting: str, *, key=client_ip):
    """A view decorator: at most config[setting] requests per `key(request)` (the address,
    or e.g. the signed-in user: auth.sessions.user_or_ip)."""
    return limiter.limit(lambda: current_app.config[setting], key_func=key)


def retry_after(err=None) -> str:
    """Seconds until the breached window resets (for the Retry-After header)."""
    limit = getattr(getattr(err, "limit", None), "limit", None)
    window = limit.get_expiry() if limit is not None else 60
    try:
        current = limiter.current_limit
        if current is not None and current.breached:
            return str(min(window, max(1, math.ceil(current.reset_at - time.time()))))
    except Exception:  # noqa: BLE001  (the storage may have failed in between; fall back)
        log.debug("retry_after: window unavailable", exc_info=True)
    return str(window)


def prepare_config(app: Flask) -> None:
    """Storage defaults flask-limiter reads in `init_app`."""
    cfg = app.config
    uri = cfg.get("RATELIMIT_STORAGE_URI") or "memory://"
    cfg["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(("redis://", "rediss://", "redis+")):
        cfg.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 1, "socket_connect_timeout": 1})
    elif uri.startswith("memory://") and cfg.get("APP_ENV") == "production" and cfg.get("RATELIMIT_ENABLED"):
        log.warning("rate limits are counted in process memory: each worker counts alone; set REDIS_URL")


def register_breach_handler(app: Flask) -> None:
    """errors.py answers the 429 (in the Open311 blueprint, in its own shape); it asks this
    module, through the app, for the seconds until the window resets."""
    app.extensions[RETRY_AFTER] = retry_after
