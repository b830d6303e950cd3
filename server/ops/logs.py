"""Request ids and logs: one JSON object per line in production, readable text in dev.

Every request gets an id: the caller's `X-Request-ID` when it is sane (1 to 64 letters,
digits or dashes; nginx sends its own), else a new one. It is returned in the
`X-Request-ID` response header and stamped on every log line written while the request
runs, so the id a resident reads off a failed screen finds every line of that request.

Paths are logged without their query string: login codes and tokens never reach a log.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, has_request_context, request

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_ENVIRON_ID = "gongzhi.request_id"
_ENVIRON_STARTED = "gongzhi.started"
# Probes and scrapes are logged at DEBUG: every few seconds from every balancer would drown the rest.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Fields a record may carry (from the request, or `extra=`), in the order they are written.
FIELDS = ("request_id", "method", "path", "endpoint", "status", "duration_ms")

request_log = logging.getLogger("gongzhi.request")


def sane_request_id(value: str | None) -> str | None:
    return value if value and _SANE_ID.fullmatch(value) else None


def request_id() -> str | None:
    """This request's id (fixed on first use), or None outside a request."""
    if not has_request_context():
        return None
    environ = request.environ
    rid = environ.get(_ENVIRON_ID)
    if rid is None:
        rid = sane_request_id(request.headers.get(HEADER)) or uuid.uuid4().hex
        environ[_ENVIRON_ID] = rid
    return rid


class RequestContextFilter(logging.Filter):
    """Puts the request id, method and path (never the query string) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = request_id()
            record.method = request.method
            record.path = request.path
        return True


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, tz=timezone.utc).astimezone().isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601 with offset), level, logger, message,
    the request fields when there is a request, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exc"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message`, for a terminal."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(rid)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.rid = getattr(record, "request_id", None) or "-"
        return super().format(record)


def make_handler(fmt: str, stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler._gongzhi = True  # type: ignore[attr-defined]  (ours: replaced, never stacked)
    return handler


def configure_logging(app: Flask, stream=None) -> None:
    """LOG_FORMAT=json|text installs one root handler (replacing the one installed by an
    earlier app); empty leaves logging as the host process set it up (the test suite)."""
    fmt = str(app.config.get("LOG_FORMAT") or "").strip().lower()
    if not fmt:
        return
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {fmt!r}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gongzhi", False):
            root.removeHandler(handler)
    root.addHandler(make_handler(fmt, stream))
    root.setLevel(str(app.config.get("LOG_LEVEL") or "INFO").upper())


def install_request_hooks(app: Flask, on_finish: Callable[[str, str, int, float], None]) -> None:
    """Fix the request id and the start time first; on the way out, return the id in a
    header, report the request to `on_finish` (metrics) and write one line about it."""

    @app.before_request
    def _started():
        request.environ.setdefault(_ENVIRON_STARTED, time.perf_counter())
        request_id()

    @app.after_request
    def _finished(response):
        response.headers[HEADER] = request_id()
        started = request.environ.get(_ENVIRON_STARTED)
        seconds = time.perf_counter() - started if started is not None else 0.0
        # The endpoint name, not the path: /api/v1/tickets/17 and /18 are one series.
        endpoint = request.endpoint or "unmatched"
        on_finish(endpoint, request.method, response.status_code, seconds)
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        if request_log.isEnabledFor(level):
            request_log.log(level, "%s %s %s", request.method, request.path, response.status_code,
                            extra={"endpoint": endpoint, "status": response.status_code,
                                   "duration_ms": round(seconds * 1000, 1)})
        return response
