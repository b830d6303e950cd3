"""Login, logout, phone binding and staff posts. Operations flush; the request commits."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from .. import crypto
from ..db_setup import insert_skipping_duplicates
from ..errors import DomainError, Forbidden, Invalid, NotFound
from ..extensions import db
from ..timeutil import utcnow
from ..units.models import Unit
from ..wechat.service import get_wechat
from . import sessions, viewer_cache
from .models import AuthToken, Role, StaffPost, User

log = logging.getLogger(__name__)

DEV_PREFIX = "dev:"


def _find_or_create(openid: str, nickname: str = "", *, is_dev: bool = False) -> User:
    """The account of this openid, created on its first login. The same first login sent
    several times at once (a weak network) makes one row: an INSERT that skips a taken
    openid waits for the other request's row, then reads it."""
    find = sa.select(User).where(User.openid == openid)
    user = db.session.execute(find).scalar_one_or_none()
    if user is None:
        db.session.connection().execute(insert_skipping_duplicates(User.__table__, "openid"), {
            "openid": openid, "nickname": nickname, "is_dev": is_dev, "created_at": utcnow()})
        user = db.session.execute(find).scalar_one()
    return user


def login(code: str) -> tuple[User, str, object]:
    """Exchange a wx.login code for our own token.

    With DEV_LOGIN on, `dev:<name>` logs in as a stable dev user without WeChat.
    """
    if code.startswith(DEV_PREFIX):
        if not current_app.config.get("DEV_LOGIN"):
            raise DomainError("开发登录未开启", status=401, key="invalid_code")
        name = code[len(DEV_PREFIX):].strip()
        if not name or len(name) > 32:
            raise Invalid("开发登录名应为 1 到 32 个字符", key="invalid_code")
        user = _find_or_create(DEV_PREFIX + name, nickname=name, is_dev=True)
    else:
        wx = get_wechat().code_to_session(code)
        user = _find_or_create(wx.openid)
        if wx.unionid:
            user.unionid = wx.unionid
        user.session_key_enc = crypto.encrypt(wx.session_key)
    user.last_login_at = utcnow()
    db.session.flush()
    token, expires_at = sessions.issue_token(user)
    db.session.flush()
    log.info("login user_id=%s", user.id)
    return user, token, expires_at


def logout(token: AuthToken) -> None:
    sessions.revoke(token)
    db.session.flush()


def bind_phone(user: User, code: str) -> User:
    phone = get_wechat().phone_number(code)
    user.phone_enc = crypto.encrypt(phone)
    db.session.flush()
    return user


def _user_by_openid(openid: str) -> User:
    user = db.session.execute(sa.select(User).where(User.openid == openid)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"用户不存在: {openid}", key="user_not_found")
    return user


def _unit_by_code(code: str) -> Unit:
    unit = db.session.execute(sa.select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"单位不存在: {code}", key="unit_not_found")
    return unit


def _role(name: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        raise Invalid(f"未知角色: {name}（可选: {', '.join(r.value for r in Role)}）", key="invalid_role") from None


def grant_post(openid: str, unit_code: str, role_name: str) -> StaffPost:
    user, unit, role = _user_by_openid(openid), _unit_by_code(unit_code), _role(role_name)
    post = db.session.execute(
        sa.select(StaffPost).where(StaffPost.user_id == user.id, StaffPost.unit_id == unit.id, StaffPost.role == role)
    ).scalar_one_or_none()
    if post is None:
        post = StaffPost(user=user, unit=unit, role=role)
        db.session.add(post)
        db.session.flush()
    return post


def revoke_post(openid: str, unit_code: str, role_name: str) -> bool:
    user, unit, role = _user_by_openid(openid), _unit_by_code(unit_code), _role(role_name)
    deleted = db.session.execute(
        sa.delete(StaffPost).where(StaffPost.user_id == user.id, StaffPost.unit_id == unit.id, StaffPost.role == role),
        execution_options={viewer_cache.OPTION: (user.id,)},
    ).rowcount
    db.session.expire(user, ["posts"])
    return bool(deleted)


# --- staff posts granted by staff (the office console) -------------------------------------

# Which roles a post of each role may grant or revoke at its unit and below: nobody grants
# above their own. Cadres, grid workers and deputies grant none.
GRANTS: dict[Role, frozenset[Role]] = {
    Role.admin: frozenset(Role),
    Role.unit_head: frozenset({Role.unit_head, Role.cadre, Role.grid_worker}),
}
MANAGERS = frozenset(role.value for role in GRANTS)


def may_grant(actor, unit: Unit, role: Role) -> bool:
    """The actor's posts at the unit or above let them grant (or revoke) this role there."""
    return any(unit.path.startswith(post.unit.path) and role in GRANTS.get(post.role, ()) for post in actor.posts)


def _check_grant(actor, unit: Unit, role: Role) -> None:
    if not may_grant(actor, unit, role):
        raise Forbidden("不能授予或撤销高于自己岗位的角色", key="role_above_own")


def grant_post_by(actor, user_id: int, unit: Unit, role_name: str) -> StaffPost:
    """A post given by a staff member: only at a unit their posts cover (the caller answers
    404 otherwise) and only a role theirs may grant there (403 role_above_own)."""
    role = _role(role_name)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在", key="user_not_found")
    _check_grant(actor, unit, role)
    return grant_post(user.openid, unit.code, role.value)


def revoke_post_by(actor, post: StaffPost) -> None:
    """A post taken away by a staff member under the same rule as granting; never one's own
    (a manager does not lock themselves out)."""
    _check_grant(actor, post.unit, post.role)
    if post.user_id == actor.id:
        raise Forbidden("不能撤销自己的岗位", key="own_post")
    revoke_post(post.user.openid, post.unit.code, post.role.value)
