from flask_smorest import Blueprint

from ..ops.ratelimit import rate_limit
from . import operations, sessions
from .schemas import LoginResultSchema, LoginSchema, PhoneCodeSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录与当前用户")
BEARER = [{"bearerAuth": []}]


@blp.post("/auth/login")
@rate_limit("RATELIMIT_LOGIN")
@blp.arguments(LoginSchema())
@blp.response(200, LoginResultSchema)
def login(body):
    """WeChat login: exchange a wx.login code for a token."""
    user, token, expires_at = operations.login(body["code"])
    return {"token": token, "expires_at": expires_at, "user": user}


@blp.post("/auth/logout")
@sessions.login_required
@blp.response(204)
@blp.doc(security=BEARER)
def logout():
    operations.logout(sessions.current_token())


@blp.get("/me")
@sessions.login_required
@blp.response(200, UserSchema)
@blp.doc(security=BEARER)
def me():
    return sessions.current_user()


@blp.post("/me/phone")
@sessions.login_required
@blp.arguments(PhoneCodeSchema())
@blp.response(200, UserSchema)
@blp.doc(security=BEARER)
def bind_phone(body):
    """Bind the phone number the user agreed to share (getPhoneNumber button code)."""
    return operations.bind_phone(sessions.current_user(), body["code"])
