"""The OPEN311_* settings (server/config.py), read from the app config on each request."""
from __future__ import annotations

from flask import current_app


def setting(name: str, default: str = "") -> str:
    """A setting from the app config, or the default when it is empty."""
    value = current_app.config.get(name)
    return str(value).strip() if value not in (None, "") else default
