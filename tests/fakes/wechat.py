"""A fake WeChat server API, served over real HTTP on 127.0.0.1.

The product never patches wechatpy in tests.  Instead it points wechatpy at
this server (WECHAT_API_BASE = fake.base_url), which answers the endpoints the
product uses with WeChat's real shapes and error codes (errors are HTTP 200 with
{"errcode": N, "errmsg": "..."}).

In-process use::

    fake = FakeWeChat().start()
    fake.add_login_code("c1", "openid-1")
    ...
    fake.stop()

Separate process (end-to-end tests)::

    python -m tests.fakes.wechat --port 0 --codes code1=openid1,code2=openid2
    # prints "READY http://127.0.0.1:PORT/" then serves until SIGTERM

Standard library only.
"""
from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = ["FakeWeChat"]

# --- errcodes (values as WeChat documents them) -----------------------------
SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001  # access_token invalid / not latest
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_APPID = 40013
INVALID_CODE = 40029
INVALID_TEMPLATE_ID = 40037
INVALID_APPSECRET = 40125
SCENE_ERROR = 40129
CODE_BEEN_USED = 40163
ACCESS_TOKEN_MISSING = 41001
CODE_MISSING = 41008
EXPIRED_ACCESS_TOKEN = 42001
REQUIRE_GET = 43001
REQUIRE_POST = 43002
USER_REFUSE = 43101
EMPTY_PARAM = 44002
DATA_FORMAT_ERROR = 47001
ARGUMENT_INVALID = 47003

MSG_SEC_CHECK_MAX_CHARS = 2500
MINIPROGRAM_STATES = ("developer", "trial", "formal")
SUBSCRIBE_LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _no_cjk(value: str) -> bool:
    return not _CJK.search(value)


# Subscribe-message data limits by key prefix ("thing1" -> "thing").
# Each entry: predicate(value) -> bool.  Values must also be non-empty.
_SUBSCRIBE_RULES = {
    "thing": lambda v: len(v) <= 20,
    "number": lambda v: len(v) <= 32 and re.fullmatch(r"[0-9]+(\.[0-9]+)?", v) is not None,
    "letter": lambda v: len(v) <= 32 and re.fullmatch(r"[A-Za-z]+", v) is not None,
    "symbol": lambda v: len(v) <= 5 and re.fullmatch(r"[^0-9A-Za-z\s]+", v) is not None
    and _no_cjk(v),
    "character_string": lambda v: len(v) <= 32 and _no_cjk(v),
    "phone_number": lambda v: len(v) <= 17 and re.fullmatch(r"[0-9+\-() ]+", v) is not None,
    "car_number": lambda v: len(v) <= 8,
    "name": lambda v: len(v) <= 10,
    "phrase": lambda v: len(v) <= 5,
    "amount": lambda v: re.fullmatch(r"[¥$€￥]?[0-9]+(\.[0-9]{1,2})?元?", v) is not None,
    "time": lambda v: True,
    "date": lambda v: True,
}
_KEY_RE = re.compile(r"^([a-z_]+?)(\d*)$")


class _Reply(Exception):
    """Raised inside a handler to answer immediately."""

    def __init__(self, status: int, body, content_type="application/json; charset=utf-8", headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def _err(errcode: int, errmsg: str):
    return _Reply(200, {"errcode": errcode, "errmsg": errmsg})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # pragma: no cover - noise only
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # client gave up (e.g. timed out during delay()) - expected
        super().handle_error(request, client_address)


class FakeWeChat:
    """Fake WeChat HTTP API.  All state is guarded by one lock."""

    def __init__(self, appid="wxfakeappid0000001", secret="fake-app-secret", keep_alive=True):
        self.appid = appid
        self.secret = secret
        self.keep_alive = keep_alive  # False: a connection per request (HTTP/1.0), as this fake once did
        # Real WeChat answers 40163 "code been used" for a reused login code;
        # the default models it as 40029 "invalid code".  Set to 40163 to model it exactly.
        self.used_code_errcode = INVALID_CODE
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # logins
        self._login_codes: dict[str, dict] = {}
        self._used_login_codes: set[str] = set()
        self._phone_codes: dict[str, dict] = {}
        self._used_phone_codes: set[str] = set()
        self._openids: set[str] = set()
        # tokens
        self._token = self._new_token()
        self._token_expired = False
        self._tokens_issued = 0
        # faults: path -> list of [kind-specific value, remaining]
        self._fails: dict[str, list] = {}
        self._http_errors: dict[str, list] = {}
        self._delays: dict[str, list] = {}
        # observation
        self._calls: list[dict] = []
        # text security
        self._verdicts: list[tuple[str, str, int]] = []
        # subscribe messages
        self._grants: dict[tuple[str, str], int] = {}
        self._sent: list[dict] = []
        self._msgid = 2_000_000_000
        # WeCom (企业微信) for staff
        self.corp_id, self.corp_secret, self.agent_id = "wwfakecorp000001", "fake-corp-secret", 1000002
        self._wecom_token = self._new_token()
        self._wecom_sent: list[dict] = []
        # WeCom web sign-in (扫码登录): who scans the QR next, and the codes handed back
        self._wecom_scans: list[str] = []
        self._wecom_codes: dict[str, str] = {}

    # ------------------------------------------------------------------ life
    def start(self, port: int = 0) -> "FakeWeChat":
        """Bind 127.0.0.1:port (0 = any free port) and serve in a daemon thread."""
        if self._server is not None:
            return self
        handler = self._make_handler()
        self._server = _Server(("127.0.0.1", port), handler)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"FakeWeChat:{port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> "FakeWeChat":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else 0

    # ---------------------------------------------------------------- logins
    def add_login_code(self, code, openid, session_key=None, unionid=None) -> None:
        """Register a single-use wx.login() code."""
        if session_key is None:
            session_key = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
        with self._lock:
            self._login_codes[code] = {
                "openid": openid, "session_key": session_key, "unionid": unionid,
            }
            self._used_login_codes.discard(code)
            self._openids.add(openid)

    def add_user(self, openid) -> None:
        """Make an openid known (as if it had logged in) without a login code."""
        with self._lock:
            self._openids.add(openid)

    def add_phone_code(self, code, phone="13812341234", country_code="86",
                       phone_number=None) -> None:
        """Register a single-use getPhoneNumber code.

        phoneNumber equals purePhoneNumber for mainland (86) numbers; otherwise it is
        "+CC PURE" unless phone_number is given explicitly.
        """
        if phone_number is None:
            phone_number = phone if str(country_code) == "86" else f"+{country_code} {phone}"
        with self._lock:
            self._phone_codes[code] = {
                "phoneNumber": phone_number,
                "purePhoneNumber": phone,
                "countryCode": str(country_code),
            }
            self._used_phone_codes.discard(code)

    # --------------------------------------------------------------- faults
    @staticmethod
    def _norm(path: str) -> str:
        return path.split("?", 1)[0].strip("/")

    def fail(self, path, errcode, errmsg=None, times=1) -> None:
        """Next `times` calls to path answer HTTP 200 {"errcode", "errmsg"}."""
        if errmsg is None:
            errmsg = {
                SYSTEM_BUSY: "system error",
                INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
                EXPIRED_ACCESS_TOKEN: "access_token expired",
                45009: "reach max api daily quota limit",
                45011: "api minute-quota reach limit  mustslower  retry next minute",
                INVALID_CODE: "invalid code",
                CODE_BEEN_USED: "code been used",
            }.get(errcode, f"fake error {errcode}")
        with self._lock:
            self._fails.setdefault(self._norm(path), []).append([(int(errcode), errmsg), times])

    def http_error(self, path, status=502, times=1) -> None:
        """Next `times` calls to path answer that HTTP status with an HTML body."""
        with self._lock:
            self._http_errors.setdefault(self._norm(path), []).append([int(status), times])

    def delay(self, path, seconds, times=1) -> None:
        """Next `times` calls to path sleep `seconds` before answering."""
        with self._lock:
            self._delays.setdefault(self._norm(path), []).append([float(seconds), times])

    def reset_faults(self) -> None:
        with self._lock:
            self._fails.clear()
            self._http_errors.clear()
            self._delays.clear()

    @staticmethod
    def _take(table: dict, path: str):
        queue = table.get(path)
        if not queue:
            return None
        entry = queue[0]
        entry[1] -= 1
        if entry[1] <= 0:
            queue.pop(0)
        return entry[0]

    # --------------------------------------------------------------- tokens
    @staticmethod
    def _new_token() -> str:
        # Real tokens are ~136 chars of [A-Za-z0-9_-]; shape only matters loosely.
        return "fake_at_" + secrets.token_urlsafe(48)

    def _issue_token_locked(self) -> str:
        self._token = self._new_token()
        self._token_expired = False
        self._tokens_issued += 1
        return self._token

    def rotate_token(self) -> str:
        """Replace the current token; the old one then answers 40001."""
        with self._lock:
            return self._issue_token_locked()

    def expire_token(self) -> None:
        """The current token answers 42001 until a new one is fetched."""
        with self._lock:
            self._token_expired = True

    @property
    def current_token(self) -> str:
        with self._lock:
            return self._token

    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return self._tokens_issued

    # ----------------------------------------------------------- observation
    @property
    def calls(self) -> list[dict]:
        """Snapshot of every request received, oldest first."""
        with self._lock:
            return [dict(c) for c in self._calls]

    def count(self, path) -> int:
        path = self._norm(path)
        with self._lock:
            return sum(1 for c in self._calls if c["path"] == path)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # --------------------------------------------------------- text security
    def set_text_verdict(self, substring, suggest, label=20001) -> None:
        """Content containing substring gets that suggest ("risky"/"review")."""
        if suggest not in ("pass", "review", "risky"):
            raise ValueError(f"suggest must be pass/review/risky, not {suggest!r}")
        with self._lock:
            self._verdicts.append((substring, suggest, int(label)))

    # ---------------------------------------------------- subscribe messages
    def grant_subscription(self, openid, template_id, count=1) -> None:
        """The user accepted `count` more one-time subscriptions of template_id."""
        with self._lock:
            key = (openid, template_id)
            self._grants[key] = self._grants.get(key, 0) + int(count)

    def remaining_grants(self, openid, template_id) -> int:
        with self._lock:
            return self._grants.get((openid, template_id), 0)

    @property
    def sent_count(self) -> int:
        with self._lock:
            return len(self._sent)

    @property
    def sent_messages(self) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._sent]

    # ============================================================== HTTP side
    def _make_handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "FakeWeChat/1.0"
            # Keep-alive, as WeChat's own servers: a client's session reuses its connection.
            protocol_version = "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"
            # Head and body leave in one segment (no 40 ms wait on delayed ACKs between them).
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True
            sys_version = ""

            def log_message(self, format, *args):  # noqa: A002 - silence
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        return Handler

    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(req.path)
        path = split.path.strip("/")
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        raw = b""
        length = int(req.headers.get("Content-Length") or 0)
        if length:
            raw = req.rfile.read(length)
        body = None
        body_error = False
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body_error = True
        with self._lock:
            self._calls.append({
                "method": method, "path": path, "query": query,
                "json": body if isinstance(body, dict) else None, "time": time.time(),
            })
            delay = self._take(self._delays, path)
        if delay:
            time.sleep(delay)
        try:
            with self._lock:
                status = self._take(self._http_errors, path)
                if status is not None:
                    raise _Reply(
                        status,
                        f"<html><head><title>{status}</title></head><body>"
                        f"<center><h1>{status}</h1></center><hr><center>nginx</center>"
                        f"</body></html>",
                        "text/html; charset=utf-8",
                    )
                failure = self._take(self._fails, path)
                if failure is not None:
                    raise _err(*failure)
                route = self._ROUTES.get(path)
                if route is None:
                    raise _Reply(404, {"errcode": -1, "errmsg": "fake: unknown path"})
                want_method, fn = route
                if method != want_method:
                    raise _err(REQUIRE_POST if want_method == "POST" else REQUIRE_GET,
                               f"require {want_method} method")
                if want_method == "POST":
                    if body_error or (raw and not isinstance(body, dict)):
                        raise _err(DATA_FORMAT_ERROR, "data format error")
                    body = body if isinstance(body, dict) else {}
                result = fn(self, query, body)
            reply = _Reply(200, result)
        except _Reply as r:
            reply = r
        except Exception as exc:  # a bug in the fake: make it loud, not a hang
            reply = _Reply(500, {"errcode": -1, "errmsg": f"fake internal error: {exc!r}"})
        self._send(req, reply)

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, reply: _Reply) -> None:
        if isinstance(reply.body, (dict, list)):
            data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        else:
            data = str(reply.body).encode("utf-8")
        try:
            req.send_response(reply.status)
            req.send_header("Content-Type", reply.content_type)
            req.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                req.send_header(name, value)
            req.end_headers()
            req.wfile.write(data)
        except (ConnectionError, TimeoutError):
            pass  # client went away (e.g. its timeout fired during delay())

    # ------------------------------------------------------------- helpers
    def _check_token_locked(self, query) -> None:
        token = query.get("access_token")
        if not token:
            raise _err(ACCESS_TOKEN_MISSING, "access_token missing")
        if token != self._token:
            raise _err(INVALID_CREDENTIAL,
                       "invalid credential, access_token is invalid or not latest")
        if self._token_expired:
            raise _err(EXPIRED_ACCESS_TOKEN, "access_token expired")

    def _check_app_locked(self, appid, secret) -> None:
        if appid != self.appid:
            raise _err(INVALID_APPID, "invalid appid")
        if secret != self.secret:
            raise _err(INVALID_APPSECRET, "invalid appsecret")

    @staticmethod
    def _trace_id() -> str:
        return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"

    # ------------------------------------------------------------ endpoints
    # All called with self._lock held.
    def _ep_jscode2session(self, query, body):
        self._check_app_locked(query.get("appid"), query.get("secret"))
        if query.get("grant_type") != "authorization_code":
            raise _err(INVALID_GRANT_TYPE, "invalid grant_type")
        code = query.get("js_code")
        if not code:
            raise _err(CODE_MISSING, "missing code")
        if code in self._used_login_codes:
            msg = "code been used" if self.used_code_errcode == CODE_BEEN_USED else "invalid code"
            raise _err(self.used_code_errcode, msg)
        entry = self._login_codes.pop(code, None)
        if entry is None:
            raise _err(INVALID_CODE, "invalid code")
        self._used_login_codes.add(code)
        result = {"session_key": entry["session_key"], "openid": entry["openid"]}
        if entry["unionid"]:
            result["unionid"] = entry["unionid"]
        return result

    def _ep_stable_token(self, query, body):
        if body.get("grant_type") != "client_credential":
            raise _err(INVALID_GRANT_TYPE, "invalid grant_type")
        self._check_app_locked(body.get("appid"), body.get("secret"))
        if body.get("force_refresh") is True or self._token_expired:
            self._issue_token_locked()
        return {"access_token": self._token, "expires_in": 7200}

    def _ep_legacy_token(self, query, body):
        if query.get("grant_type") != "client_credential":
            raise _err(INVALID_GRANT_TYPE, "invalid grant_type")
        self._check_app_locked(query.get("appid"), query.get("secret"))
        # Legacy API: every call issues a new token, invalidating the previous one.
        return {"access_token": self._issue_token_locked(), "expires_in": 7200}

    def _ep_getuserphonenumber(self, query, body):
        self._check_token_locked(query)
        code = body.get("code")
        if not code:
            raise _err(DATA_FORMAT_ERROR, "data format error")
        entry = self._phone_codes.pop(code, None)
        if entry is None:
            raise _err(INVALID_CODE, "invalid code")
        self._used_phone_codes.add(code)
        info = dict(entry)
        info["watermark"] = {"timestamp": int(time.time()), "appid": self.appid}
        return {"errcode": 0, "errmsg": "ok", "phone_info": info}

    def _ep_msg_sec_check(self, query, body):
        self._check_token_locked(query)
        if body.get("version") != 2:
            raise _err(DATA_FORMAT_ERROR, "data format error: version must be 2")
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise _err(EMPTY_PARAM, "empty post data: openid")
        if openid not in self._openids:
            raise _err(INVALID_OPENID, "invalid openid")
        scene = body.get("scene")
        if scene not in (1, 2, 3, 4):
            raise _err(SCENE_ERROR, "invalid scene")
        content = body.get("content")
        if not isinstance(content, str):
            raise _err(DATA_FORMAT_ERROR, "data format error: content")
        if not content:
            raise _err(EMPTY_PARAM, "empty post data: content")
        if len(content) > MSG_SEC_CHECK_MAX_CHARS:
            raise _err(DATA_FORMAT_ERROR, "data format error: content too long")
        text = " ".join(
            str(body.get(k) or "") for k in ("title", "nickname", "signature")
        ) + " " + content
        suggest, label = "pass", 100
        rank = {"pass": 0, "review": 1, "risky": 2}
        for substring, v_suggest, v_label in self._verdicts:
            if substring in text and rank[v_suggest] > rank[suggest]:
                suggest, label = v_suggest, v_label
        detail = [
            {"strategy": "content_model", "errcode": 0, "suggest": suggest,
             "label": label, "prob": 90 if suggest != "pass" else 0},
            {"strategy": "keyword", "errcode": 0, "suggest": suggest, "label": label,
             **({"level": 20, "keyword": "fake"} if suggest != "pass" else {})},
        ]
        return {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label},
                "detail": detail, "trace_id": self._trace_id()}

    def _ep_media_check_async(self, query, body):
        self._check_token_locked(query)
        if not body.get("media_url"):
            raise _err(EMPTY_PARAM, "empty post data: media_url")
        if body.get("media_type") not in (1, 2):
            raise _err(DATA_FORMAT_ERROR, "data format error: media_type")
        if body.get("version") == 2:
            openid = body.get("openid")
            if openid not in self._openids:
                raise _err(INVALID_OPENID, "invalid openid")
            if body.get("scene") not in (1, 2, 3, 4):
                raise _err(SCENE_ERROR, "invalid scene")
        return {"errcode": 0, "errmsg": "ok", "trace_id": self._trace_id()}

    def _ep_subscribe_send(self, query, body):
        self._check_token_locked(query)
        touser = body.get("touser")
        if not touser or touser not in self._openids:
            raise _err(INVALID_OPENID, "invalid openid")
        template_id = body.get("template_id")
        if not template_id or not isinstance(template_id, str):
            raise _err(INVALID_TEMPLATE_ID, "invalid template_id")
        state = body.get("miniprogram_state", "formal")
        if state not in MINIPROGRAM_STATES:
            raise _err(ARGUMENT_INVALID, "argument invalid! miniprogram_state invalid")
        lang = body.get("lang", "zh_CN")
        if lang not in SUBSCRIBE_LANGS:
            raise _err(ARGUMENT_INVALID, "argument invalid! lang invalid")
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            raise _err(ARGUMENT_INVALID, "argument invalid! data invalid")
        for key, item in data.items():
            bad = _err(ARGUMENT_INVALID, f"argument invalid! data.{key}.value invalid")
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                raise bad
            value = item["value"]
            if not value.strip():
                raise bad
            m = _KEY_RE.match(key)
            rule = _SUBSCRIBE_RULES.get(m.group(1)) if m else None
            if rule is not None and not rule(value):
                raise bad
        key = (touser, template_id)
        if self._grants.get(key, 0) <= 0:
            raise _err(USER_REFUSE, "user refuse to accept the msg")
        self._grants[key] -= 1
        self._sent.append(json.loads(json.dumps(body)))
        self._msgid += 1
        return {"errcode": 0, "errmsg": "ok", "msgid": self._msgid}

    # ------------------------------------------------------------- WeCom
    def _ep_wecom_gettoken(self, query, body):
        if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.corp_secret:
            raise _err(40001, "invalid corpsecret")
        return {"errcode": 0, "errmsg": "ok", "access_token": self._wecom_token, "expires_in": 7200}

    def _ep_wecom_send(self, query, body):
        if query.get("access_token") != self._wecom_token:
            raise _err(40014, "invalid access_token")
        if str(body.get("agentid")) != str(self.agent_id):
            raise _err(301002, "not allow operate another agent")
        if body.get("msgtype") == "textcard":
            card = body.get("textcard") or {}
            if len(card.get("title", "").encode()) > 128 or len(card.get("description", "").encode()) > 512:
                raise _err(ARGUMENT_INVALID, "textcard too long")
        self._wecom_sent.append(json.loads(json.dumps(body)))
        return {"errcode": 0, "errmsg": "ok", "invaliduser": ""}

    def wecom_scan(self, userid: str) -> None:
        """The next visitor of the QR page is a member `userid` scanning it and agreeing."""
        with self._lock:
            self._wecom_scans.append(userid)

    def _ep_wecom_sso(self, query, body):
        """The QR page (wwlogin/sso/login): after a scan, back to redirect_uri with a code
        and the state as sent; nobody scanning, the page itself."""
        if query.get("appid") != self.corp_id or str(query.get("agentid")) != str(self.agent_id):
            raise _Reply(200, "<html><body>该链接无法访问</body></html>", "text/html; charset=utf-8")
        target = query.get("redirect_uri", "")
        if not target.startswith(("http://", "https://")):
            raise _Reply(200, "<html><body>redirect_uri 参数错误</body></html>", "text/html; charset=utf-8")
        if not self._wecom_scans:
            raise _Reply(200, "<html><body>请使用企业微信扫描二维码登录</body></html>", "text/html; charset=utf-8")
        code = secrets.token_hex(16)
        self._wecom_codes[code] = self._wecom_scans.pop(0)
        joined = "&" if "?" in target else "?"
        location = f"{target}{joined}{urlencode({'code': code, 'state': query.get('state', '')})}"
        raise _Reply(302, "", "text/html; charset=utf-8", headers={"Location": location})

    def _ep_wecom_userinfo(self, query, body):
        """user/getuserinfo: the member behind a sign-in code, once."""
        if query.get("access_token") != self._wecom_token:
            raise _err(40014, "invalid access_token")
        userid = self._wecom_codes.pop(query.get("code", ""), None)
        if userid is None:
            raise _err(40029, "invalid code")
        return {"errcode": 0, "errmsg": "ok", "UserId": userid, "DeviceId": ""}

    @property
    def wecom_messages(self) -> list[dict]:
        with self._lock:
            return list(self._wecom_sent)

    _ROUTES = {
        "cgi-bin/gettoken": ("GET", _ep_wecom_gettoken),
        "cgi-bin/message/send": ("POST", _ep_wecom_send),
        "cgi-bin/user/getuserinfo": ("GET", _ep_wecom_userinfo),
        "wwlogin/sso/login": ("GET", _ep_wecom_sso),
        "sns/jscode2session": ("GET", _ep_jscode2session),
        "cgi-bin/stable_token": ("POST", _ep_stable_token),
        "cgi-bin/token": ("GET", _ep_legacy_token),
        "wxa/business/getuserphonenumber": ("POST", _ep_getuserphonenumber),
        "wxa/msg_sec_check": ("POST", _ep_msg_sec_check),
        "wxa/media_check_async": ("POST", _ep_media_check_async),
        "cgi-bin/message/subscribe/send": ("POST", _ep_subscribe_send),
    }


# ----------------------------------------------------------------- process
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.wechat")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--appid", default="wxfakeappid0000001")
    parser.add_argument("--secret", default="fake-app-secret")
    parser.add_argument("--codes", default="", help="code1=openid1,code2=openid2")
    parser.add_argument("--phone-codes", default="", help="code1=13812341234,...")
    args = parser.parse_args(argv)

    fake = FakeWeChat(appid=args.appid, secret=args.secret)
    for pair in filter(None, args.codes.split(",")):
        code, _, openid = pair.partition("=")
        fake.add_login_code(code.strip(), openid.strip())
    for pair in filter(None, args.phone_codes.split(",")):
        code, _, phone = pair.partition("=")
        fake.add_phone_code(code.strip(), phone.strip() or "13812341234")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    fake.start(args.port)
    print(f"READY {fake.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
