"""Signed photo addresses: a photo that not everyone may see (a held or hidden report's, a
staff-only note's, one uploaded and not yet filed) is served only under an address the
service signed for someone who may read it, valid for SIGNED_MEDIA_SECONDS. Images in the
mini-program are fetched without the bearer token, so the address itself carries the right.
"""
from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app

SECONDS = 6 * 3600


def _mac(key: str, expires: int) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"media:{key}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def query(key: str) -> str:
    """`?exp=...&sig=...` for this photo key, valid for SECONDS (rounded up to the hour, so a
    page shown twice in one hour names the same addresses and the phone's cache holds)."""
    expires = (int(time.time()) // 3600 + 1) * 3600 + SECONDS
    return f"?exp={expires}&sig={_mac(key, expires)}"


def valid(key: str, expires: str | None, sig: str | None) -> bool:
    if not expires or not sig or not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < time.time():
        return False
    return hmac.compare_digest(_mac(key, int(expires)), sig)
