"""Personal data at rest: Fernet encryption with rotatable keys, and masking for display.

`FIELD_ENCRYPTION_KEYS` lists Fernet keys, newest first. New values are encrypted with
the first; any listed key decrypts, so a key is rotated by prepending a new one and
running `flask crypto rotate` before the old one is dropped.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def _fernet() -> MultiFernet:
    cached = current_app.extensions.get("gongzhi.fernet")
    if cached is None:
        raw = [k.strip() for k in current_app.config.get("FIELD_ENCRYPTION_KEYS", "").split(",") if k.strip()]
        if not raw:
            digest = hashlib.sha256(("fields:" + current_app.config["SECRET_KEY"]).encode()).digest()
            raw = [base64.urlsafe_b64encode(digest).decode()]
        cached = MultiFernet([Fernet(k) for k in raw])
        current_app.extensions["gongzhi.fernet"] = cached
    return cached


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def rotate(token: str | None) -> str | None:
    """Re-encrypt with the newest key."""
    return _fernet().rotate(token.encode()).decode() if token else token


def mask_phone(phone: str | None) -> str | None:
    """138****1234; short or foreign numbers keep only their last four digits visible."""
    if not phone:
        return None
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "****"
