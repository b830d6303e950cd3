"""wechatpy, pointed at WECHAT_API_BASE, with an access token shared by every process.

wechatpy 1.8.18 fetches the token from the legacy `cgi-bin/token` (each call invalidates
the previous token, so gunicorn workers knock each other out) and remembers its expiry
in process memory. `SharedTokenClient` instead asks `cgi-bin/stable_token`, which hands
every caller the same token until it rotates, and keeps it (with its expiry as a TTL) in
storage that all processes share: Redis when configured, the database otherwise.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import requests
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from wechatpy import WeChatClient
from wechatpy.enterprise import WeChatClient as EnterpriseClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from ..timeutil import utcnow

log = logging.getLogger(__name__)

# Tokens are dropped this long before WeChat's expiry, so none is used in its last minutes.
EXPIRY_MARGIN_SECONDS = 300
# A process reuses the token it last read from shared storage this long without asking again
# (the outbox worker sends hundreds of messages a second). A token rotated meanwhile is
# refused (40001/42001) and fetched again at once (WeChat._call), as when it is read anew.
TOKEN_REUSE_SECONDS = 5.0


class DatabaseStorage(SessionStorage):
    """wechatpy's SessionStorage on the `shared_values` table, on its own connection."""

    def __init__(self, engine, prefix: str = "wechat"):
        from .models import SharedValue

        self.engine = engine
        self.prefix = prefix
        self.table = SharedValue.__table__

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def get(self, key, default=None):
        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.value, t.c.expires_at).where(t.c.key == self._key(key))).first()
        if row is None:
            return default
        expires_at = row.expires_at
        if expires_at is not None and expires_at.replace(tzinfo=None) <= utcnow().replace(tzinfo=None):
            return default
        return json.loads(row.value)

    def set(self, key, value, ttl=None):
        if value is None:
            return
        expires_at = utcnow() + timedelta(seconds=ttl) if ttl else None
        values = {"value": json.dumps(value), "expires_at": expires_at}
        try:
            self._write(key, values)
        except sa.exc.OperationalError:
            # Not cached this time (e.g. SQLite busy): the next caller fetches the same stable token.
            log.warning("could not store the shared WeChat token")

    def _write(self, key, values):
        t = self.table
        with self.engine.begin() as conn:
            updated = conn.execute(sa.update(t).where(t.c.key == self._key(key)).values(**values)).rowcount
            if not updated:
                try:
                    with conn.begin_nested():
                        conn.execute(sa.insert(t).values(key=self._key(key), **values))
                except IntegrityError:
                    conn.execute(sa.update(t).where(t.c.key == self._key(key)).values(**values))

    def delete(self, key):
        t = self.table
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.key == self._key(key)))


class FallbackStorage(SessionStorage):
    """Redis first; while Redis is unreachable, the database (logged once per outage)."""

    def __init__(self, primary: SessionStorage, fallback: SessionStorage):
        self.primary, self.fallback = primary, fallback
        self._down = False

    def _run(self, method: str, *args):
        import redis

        try:
            result = getattr(self.primary, method)(*args)
        except redis.RedisError:
            if not self._down:
                log.warning("Redis unreachable: the WeChat token is kept in the database meanwhile")
            self._down = True
            return getattr(self.fallback, method)(*args)
        self._down = False
        return result

    def get(self, key, default=None):
        return self._run("get", key, default)

    def set(self, key, value, ttl=None):
        return self._run("set", key, value, ttl)

    def delete(self, key):
        return self._run("delete", key)


class _SharedToken:
    """The access token lives in shared storage, with WeChat's expiry as its TTL; a process
    reuses what it last read for TOKEN_REUSE_SECONDS."""

    _reused: tuple[str, float] | None = None  # (token, read at: time.monotonic())

    @property
    def access_token(self) -> str:
        kept = self._reused
        if kept is not None and time.monotonic() - kept[1] < TOKEN_REUSE_SECONDS:
            return kept[0]
        token = self.session.get(self.access_token_key)
        if token:
            self._reused = (token, time.monotonic())
            return token
        return self.fetch_access_token()["access_token"]

    def _keep_token(self, res) -> dict:
        try:
            res.raise_for_status()
            result = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatClientException(None, f"token: {type(exc).__name__}", client=self) from None
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], max(expires_in - EXPIRY_MARGIN_SECONDS, 30))
        self._reused = (result["access_token"], time.monotonic())
        return {"access_token": result["access_token"], "expires_in": expires_in}


class SharedTokenClient(_SharedToken, WeChatClient):
    def __init__(self, appid: str, secret: str, api_base: str, storage: SessionStorage, timeout: float):
        # auto_retry off: wechatpy retries token errors without limit; WeChat._call retries once.
        super().__init__(appid, secret, session=storage, timeout=timeout, auto_retry=False)
        self.api_base = api_base.rstrip("/") + "/"
        self.API_BASE_URL = self.api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = self.api_base

    def fetch_access_token(self) -> dict:
        """getStableAccessToken: the same token for every caller until WeChat rotates it."""
        res = self._http.post(
            self.api_base + "cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
                "force_refresh": False,
            },
            timeout=self.timeout,
        )
        return self._keep_token(res)

    def code_to_session(self, js_code: str) -> dict:
        """auth.code2Session without an access token (wechatpy's version fetches one first).

        Params go as a list of pairs, which wechatpy leaves alone instead of adding the token.
        """
        return self.get(
            self.api_base + "sns/jscode2session",
            params=[
                ("appid", self.appid),
                ("secret", self.secret),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ],
        )


class WeComClient(_SharedToken, EnterpriseClient):
    """wechatpy's WeCom client at WECOM_API_BASE, its token in shared storage.

    WeCom's gettoken hands out the same token while it is valid, so no stable variant is needed.
    """

    def __init__(self, corp_id: str, secret: str, api_base: str, storage: SessionStorage, timeout: float):
        super().__init__(corp_id, secret, session=storage, timeout=timeout, auto_retry=False)
        self.api_base = api_base.rstrip("/") + "/"
        self.API_BASE_URL = self.api_base + "cgi-bin/"

    def fetch_access_token(self) -> dict:
        res = self._http.get(self.api_base + "cgi-bin/gettoken", timeout=self.timeout,
                             params={"corpid": self.corp_id, "corpsecret": self.secret})
        return self._keep_token(res)
