"""The one place that talks to WeChat. Views and operations call these functions;
WeChat's failures come back as domain errors with stable keys, never as a 500."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from flask import current_app
from wechatpy.exceptions import WeChatClientException

from ..errors import DomainError, ServiceUnavailable
from .client import DatabaseStorage, FallbackStorage, SharedTokenClient, WeComClient

log = logging.getLogger(__name__)


class WeChatError(DomainError):
    """WeChat answered with an error code we do not map to something more specific."""

    status, key, detail = 502, "wechat_error", "微信服务返回错误，请稍后再试"

    def __init__(self, errcode, errmsg="", **kwargs):
        super().__init__(**kwargs)
        self.errcode = errcode
        self.errmsg = errmsg
        self.errors = {"errcode": errcode}


TOKEN_ERRORS = {40001, 40014, 42001}

# errcode -> (status, key, Chinese detail)
_ERRORS = {
    40029: (401, "invalid_code", "登录凭证无效或已过期，请重新进入小程序"),
    40163: (401, "invalid_code", "登录凭证已被使用，请重新进入小程序"),
    45011: (429, "too_frequent", "操作太频繁，请稍后再试"),
    40226: (403, "user_blocked", "该微信账号存在风险，暂时无法登录"),
    -1: (503, "wechat_unavailable", "微信服务繁忙，请稍后再试"),
    40013: (503, "wechat_misconfigured", "服务配置有误，请联系管理员"),
    40125: (503, "wechat_misconfigured", "服务配置有误，请联系管理员"),
    41002: (503, "wechat_misconfigured", "服务配置有误，请联系管理员"),
}


def _translate(exc: WeChatClientException) -> DomainError:
    code = exc.errcode
    if code is None:
        return ServiceUnavailable("微信服务暂时无法访问，请稍后再试", key="wechat_unavailable")
    if code in _ERRORS:
        status, key, detail = _ERRORS[code]
        if key == "wechat_misconfigured":
            log.error("WeChat rejected our credentials: errcode=%s", code)
        err = WeChatError(code, exc.errmsg, status=status, key=key, detail=detail)
        if status == 429:
            err.headers = {"Retry-After": "60"}
        return err
    log.warning("WeChat errcode=%s errmsg=%s", code, exc.errmsg)
    return WeChatError(code, exc.errmsg)


@dataclass(frozen=True)
class WxSession:
    openid: str
    session_key: str
    unionid: str | None


class WeChat:
    def __init__(self, client: SharedTokenClient):
        self.client = client

    def _call(self, fn, *args, **kwargs):
        try:
            try:
                result = fn(*args, **kwargs)
            except WeChatClientException as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                # Another process may have seen the token rotate: fetch the stable one, retry once.
                self.client.fetch_access_token()
                result = fn(*args, **kwargs)
        except WeChatClientException as exc:
            raise _translate(exc) from None
        except requests.RequestException as exc:
            log.warning("WeChat unreachable: %s", type(exc).__name__)
            raise ServiceUnavailable("微信服务暂时无法访问，请稍后再试", key="wechat_unavailable") from None
        if not isinstance(result, dict):
            raise ServiceUnavailable("微信服务返回了无法识别的内容", key="wechat_unavailable")
        return result

    def code_to_session(self, code: str) -> WxSession:
        result = self._call(self.client.code_to_session, code)
        if not result.get("openid") or not result.get("session_key"):
            raise ServiceUnavailable("微信服务返回了无法识别的内容", key="wechat_unavailable")
        return WxSession(result["openid"], result["session_key"], result.get("unionid"))

    def phone_number(self, code: str) -> str:
        result = self.post("wxa/business/getuserphonenumber", {"code": code})
        info = result.get("phone_info") or {}
        phone = info.get("purePhoneNumber") or info.get("phoneNumber")
        if not phone:
            raise ServiceUnavailable("微信服务返回了无法识别的内容", key="wechat_unavailable")
        return phone

    def post(self, path: str, data: dict) -> dict:
        """A raw call for APIs wechatpy 1.8.18 lacks (msgSecCheck v2, subscribe send fields)."""
        return self._call(self.client.post, self.client.api_base + path, data=data)


def is_configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("WECHAT_APP_ID") and cfg.get("WECHAT_APP_SECRET"))


def _shared_storage(prefix: str):
    """Token storage every process shares: Redis when configured, the database otherwise."""
    cfg = current_app.config
    # urllib3 logs request URLs at DEBUG, and code2Session carries the app secret in its query.
    logging.getLogger("urllib3").setLevel(logging.INFO)
    from ..extensions import db

    database = DatabaseStorage(db.engine, prefix=prefix)
    if not cfg.get("REDIS_URL"):
        return database
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    client = redis.Redis.from_url(cfg["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1)
    return FallbackStorage(RedisStorage(client, prefix=f"gongzhi:{prefix}"), database)


def get_wechat() -> WeChat:
    """The app's WeChat client, built once per process."""
    ext = current_app.extensions
    if "gongzhi.wechat" not in ext:
        if not is_configured():
            raise ServiceUnavailable("微信登录未配置", key="wechat_not_configured")
        cfg = current_app.config
        storage = _shared_storage("wechat")
        client = SharedTokenClient(
            cfg["WECHAT_APP_ID"], cfg["WECHAT_APP_SECRET"], cfg["WECHAT_API_BASE"], storage,
            timeout=cfg.get("WECHAT_TIMEOUT", 5),
        )
        ext["gongzhi.wechat"] = WeChat(client)
    return ext["gongzhi.wechat"]


class WeCom:
    """WeCom (企业微信) for staff: text cards through wechatpy.enterprise."""

    def __init__(self, client: WeComClient, agent_id: str):
        self.client = client
        self.agent_id = agent_id

    def send_card(self, userid: str, title: str, description: str, url: str) -> None:
        send = self.client.message.send_text_card
        try:
            try:
                send(self.agent_id, userid, title, description, url, btntxt="查看")
            except WeChatClientException as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                self.client.fetch_access_token()
                send(self.agent_id, userid, title, description, url, btntxt="查看")
        except WeChatClientException as exc:
            raise _translate(exc) from None
        except requests.RequestException:
            raise ServiceUnavailable("企业微信暂时无法访问", key="wecom_unavailable") from None


    def member_of_code(self, code: str) -> str | None:
        """The member (userid) a web sign-in code stands for, or None for a code WeCom
        refuses (used, expired, made up)."""
        try:
            try:
                found = self.client.oauth.get_user_info(code)
            except WeChatClientException as exc:
                if exc.errcode not in TOKEN_ERRORS:
                    raise
                self.client.fetch_access_token()
                found = self.client.oauth.get_user_info(code)
        except WeChatClientException:
            return None
        except requests.RequestException:
            raise ServiceUnavailable("企业微信暂时无法访问", key="wecom_unavailable") from None
        return found.get("UserId") or found.get("userid") or None


def get_wecom() -> WeCom:
    ext = current_app.extensions
    if "gongzhi.wecom" not in ext:
        cfg = current_app.config
        client = WeComClient(cfg["WECOM_CORP_ID"], cfg["WECOM_SECRET"], cfg["WECOM_API_BASE"],
                             _shared_storage("wecom"), timeout=cfg.get("WECHAT_TIMEOUT", 5))
        ext["gongzhi.wecom"] = WeCom(client, cfg["WECOM_AGENT_ID"])
    return ext["gongzhi.wecom"]
