"""The console's foundation: the blueprint, the signed-in actor, CSRF, the navigation, and
the two helpers every page uses: load an object in the actor's scope (or 404) and make an
audited change.

Adding a page (docs/CONSOLE.md):

    @bp.get("/units")
    @page("单位", order=30)                # in the navigation; roles=(...) to limit it
    def units():
        unit = unit_in_scope(request.args.get("id", type=int))
        return render("console/units.html", unit=unit)

and a change, through the domain's own operation:

    with audited("unit.rename", f"unit:{unit.id}", lambda: {"name": unit.name}):
        units_operations.rename(unit, actor(), name)
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ..auth import console as console_auth
from ..auth.actor import Actor
from ..auth.models import ROLE_LABELS, Role, User
from ..errors import DomainError, Invalid, NotFound
from ..extensions import db
from ..media import operations as media
from ..tickets import lifecycle as lc
from ..timeutil import isoformat
from ..units.models import Unit
from ..units.scope import has_role, staff_roles_in
from .models import AuditEntry

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")

COOKIE = "gz_console"
LOGIN_COOKIE = "gz_console_login"  # a nonce the sign-in form's CSRF token is bound to
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = {"console.static"}  # more are added by @public


# --- the navigation ----------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    order: int
    roles: frozenset[str] | None  # None: any staff


NAV: list[NavItem] = []


def page(label: str, *, order: int = 100, roles: Iterable[str] | None = None):
    """A view decorator: the page is listed in the navigation (for staff holding one of
    `roles` anywhere, or every staff member); the roles are also required to open it."""
    wanted = frozenset(roles) if roles is not None else None

    def decorate(view):
        endpoint = f"{bp.name}.{view.__name__}"
        NAV.append(NavItem(endpoint, label, order, wanted))
        NAV.sort(key=lambda item: item.order)
        ROLE_GATES[endpoint] = wanted
        return view

    return decorate


ROLE_GATES: dict[str, frozenset[str] | None] = {}


def public(view):
    """A view anyone may open, signed in or not."""
    PUBLIC_ENDPOINTS.add(f"{bp.name}.{view.__name__}")
    return view


def nav_for(who: Actor) -> list[NavItem]:
    return [item for item in NAV if item.roles is None or has_role(who, item.roles)]


# --- who is asking -----------------------------------------------------------------------


@dataclass
class Signed:
    actor: Actor
    session_id: int
    token_hash: str


def here() -> dict:
    """This request's console state (the signed-in actor, cookies to set). Kept in the
    request's environ, not in `g`: an app context can outlive one request (a test's, a
    command's), a request's environ cannot."""
    return request.environ.setdefault("gongzhi.console", {})


def signed() -> Signed | None:
    return here().get("console")


def actor() -> Actor:
    """The signed-in staff member (every non-public page has one)."""
    found = signed()
    if found is None:
        raise NotFound()
    return found.actor


def _load_session() -> None:
    here()["console"] = None
    token = request.cookies.get(COOKIE)
    found = console_auth.find_session(token)
    if found is None:
        if token:
            here()["console_clear_cookie"] = True
        return
    user = db.session.get(User, found.user_id)
    if user is None:
        return
    here()["console"] = Signed(Actor.of_user(user), found.id, console_auth.hash_token(token or ""))


def roles_label(who: Actor) -> str:
    return "、".join(f"{post.unit.name}{ROLE_LABELS[post.role]}" for post in who.posts) or "无岗位"


def home_unit(who: Actor) -> Unit:
    """The highest unit the actor's posts cover (the dashboard's default)."""
    post = min(who.posts, key=lambda p: (p.unit.path.count("/"), p.unit.id))
    return unit_in_scope(post.unit_id)


# --- loading in scope --------------------------------------------------------------------


def in_scope_or_404(obj: Any, unit_of: Callable[[Any], Any] = lambda o: o.unit,
                    roles: Iterable[str] | None = None) -> Any:
    """The object when its unit is within the actor's posts (of these roles), else 404: the
    console never tells an outsider that something exists."""
    if obj is None:
        raise NotFound()
    held = staff_roles_in(actor(), unit_of(obj))
    if roles is not None:
        held &= set(roles)
    if not held:
        raise NotFound()
    return obj


def load_in_scope(model, object_id: int | None, unit_of: Callable[[Any], Any] = lambda o: o.unit,
                  roles: Iterable[str] | None = None) -> Any:
    """`model` row `object_id`, in the actor's scope, or 404."""
    return in_scope_or_404(db.session.get(model, object_id) if object_id else None, unit_of, roles)


def unit_in_scope(unit_id: int | None, roles: Iterable[str] | None = None) -> Unit:
    return load_in_scope(Unit, unit_id, lambda u: u, roles)


# --- the audit log -----------------------------------------------------------------------


def record(action: str, target: str = "", before: dict | None = None, after: dict | None = None,
           who: Actor | None = None) -> None:
    """One audit row (the request boundary commits it with the change, or neither)."""
    who = who or actor()
    db.session.add(AuditEntry(actor_id=who.id, actor_name=who.nickname[:64], action=action, target=target[:128],
                              before=_plain(before), after=_plain(after)))


def _plain(value: dict | None) -> dict | None:
    """JSON-safe (datetimes as ISO 8601, enums by value), as the column stores it."""
    return None if value is None else json.loads(json.dumps(value, default=_text, ensure_ascii=False))


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


@contextmanager
def audited(action: str, target: str, state: Callable[[], dict] | None = None) -> Iterator[dict]:
    """Around one change made through a domain operation: the target's state (`state()`)
    before and after, and the actor, in the audit log. The block may add to the dict it is
    given (what was asked: a note, an assignee); that goes into `after`."""
    before = state() if state else None
    asked: dict = {}
    yield asked
    db.session.flush()
    after = state() if state else {}
    record(action, target, before, {**after, **({"asked": asked} if asked else {})})


# --- forms -------------------------------------------------------------------------------


def uploaded_photos(field: str = "photos") -> list[int]:
    """The photos a form sent (at most nine), each stored through media.upload (checked and
    re-encoded like the API's uploads), as ids for the operation's `media`."""
    uploads = [f for f in request.files.getlist(field) if f and f.filename]
    return [media.upload(actor(), f.stream).id for f in uploads[:9]]


def load_form(schema, raw: dict) -> dict:
    """A form's fields through the API's own schema (the same limits), or 422 in Chinese."""
    try:
        return schema().load(raw)
    except ValidationError as err:
        raise Invalid("填写的内容有误，请检查", key="validation_error", errors={"fields": err.messages}) from None


def beijing(value: str) -> str:
    """A datetime-local field's value (北京时间) as ISO 8601 with its offset."""
    return value + (":00" if len(value) == 16 else "") + "+08:00"


# --- CSRF --------------------------------------------------------------------------------


def _mac(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"console-csrf:{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token every form and htmx request carries: bound to the session (signed in) or to
    the sign-in form's nonce cookie (not yet)."""
    found = signed()
    if found is not None:
        return _mac("session", found.token_hash)
    nonce = request.cookies.get(LOGIN_COOKIE) or here().get("console_login_nonce")
    if not nonce:
        nonce = here()["console_login_nonce"] = secrets.token_urlsafe(24)
    return _mac("login", nonce)


def _csrf_ok() -> bool:
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    found = signed()
    if found is not None:
        expected = _mac("session", found.token_hash)
    else:
        nonce = request.cookies.get(LOGIN_COOKIE)
        if not nonce:
            return False
        expected = _mac("login", nonce)
    return bool(sent) and hmac.compare_digest(sent, expected)


class CsrfRefused(DomainError):
    status, key, detail = 400, "csrf_failed", "页面已过期或请求来源不明，请刷新页面后重试"


class SignInRequired(Exception):
    """Not signed in: to the sign-in page."""


class NotStaff(DomainError):
    status, key, detail = 403, "not_staff", "只有在岗工作人员可以使用办公台"


# --- the request's hooks -----------------------------------------------------------------


@bp.before_request
def _door():
    if request.endpoint == "console.static":
        return None  # files: no session to read, cached as Flask serves them
    _load_session()
    if request.method not in SAFE_METHODS and not _csrf_ok():
        raise CsrfRefused()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    found = signed()
    if found is None:
        raise SignInRequired()
    if not found.actor.posts and request.endpoint != "console.logout":
        raise NotStaff()
    gate = ROLE_GATES.get(request.endpoint or "")
    if gate is not None and not has_role(found.actor, gate):
        raise NotFound()
    return None


def cookie_secure() -> bool:
    setting = str(current_app.config.get("CONSOLE_COOKIE_SECURE", "auto")).lower()
    if setting in {"1", "true", "yes", "on"}:
        return True
    if setting in {"0", "false", "no", "off"}:
        return False
    developing = current_app.debug or current_app.testing or current_app.config.get("APP_ENV") != "production"
    return request.is_secure or not developing


@bp.after_request
def _cookies(response):
    if request.endpoint == "console.static":
        return response
    secure = cookie_secure()
    token = here().get("console_new_token")
    if token:
        response.set_cookie(COOKIE, token, httponly=True, secure=secure, samesite="Lax", path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, secure=secure, samesite="Lax")
    elif here().get("console_clear_cookie"):
        response.delete_cookie(COOKIE, path="/", httponly=True, secure=secure, samesite="Lax")
    nonce = here().get("console_login_nonce")
    if nonce and not token:
        response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, secure=secure, samesite="Lax", path="/")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", _csp())
    return response


def _csp() -> str:
    tiles = current_app.config.get("CONSOLE_TILES_URL") or ""
    tile_origin = ""
    if "://" in tiles:
        scheme, rest = tiles.split("://", 1)
        tile_origin = " " + scheme + "://" + rest.split("/", 1)[0].replace("{s}", "*")
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{tile_origin}; connect-src 'self'; frame-ancestors 'none'; "
            "base-uri 'self'; form-action 'self'")


@bp.app_template_global()
def console_nav():
    found = signed()
    return nav_for(found.actor) if found else []


@bp.context_processor
def _globals():
    found = signed()
    return {"csrf_token": csrf_token, "signed": found, "me": found.actor if found else None,
            "roles_label": roles_label, "dev_login": current_app.config.get("DEV_LOGIN"),
            "statuses_label": status_label}


def status_label(status: str) -> str:
    return lc.STATUS_LABELS[lc.Status(status)]


def render(template: str, code: int = 200, **context):
    """The page, answered with `code`."""
    return render_template(template, **context), code


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


@bp.errorhandler(SignInRequired)
def _to_sign_in(_err):
    target = url_for("console.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if _is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError):
    return render("console/error.html", err.status, status=err.status, title=_TITLES.get(err.status, "出错了"),
                  detail=err.detail, key=err.key, problems=err.errors)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    status = err.code or 500
    detail = {404: "页面不存在，或不在您的管辖范围内", 405: "不支持此操作", 413: "上传的文件太大",
              429: "操作太频繁，请稍后再试"}.get(status, "请求有误")
    headers = {}
    if status == 429:
        from ..ops.ratelimit import retry_after

        headers["Retry-After"] = retry_after(err)
    return render_template("console/error.html", status=status, title=_TITLES.get(status, "出错了"),
                           detail=detail, key=str(status), problems={}), status, headers


_TITLES = {400: "请求无效", 401: "未能登录", 403: "没有权限", 404: "找不到页面", 409: "内容已变化",
           422: "填写有误", 429: "请稍后再试"}

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]
