"""Domain errors and the one JSON error envelope.

Every error answers `{"code", "status", "message", "errors"}`: `message` is a stable
snake_case key a client can switch on, `errors.detail` a Chinese sentence for people.
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, current_app, jsonify
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

RETRY_AFTER = "gongzhi.retry_after"  # app.extensions: err -> seconds until a rate limit resets

# Default key and Chinese text for errors raised by Flask, werkzeug or flask-smorest.
_BY_STATUS = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "内容不存在"),
    405: ("method_not_allowed", "不支持此操作"),
    409: ("conflict", "内容已被他人修改，请刷新后重试"),
    413: ("payload_too_large", "提交的内容太大"),
    415: ("unsupported_media_type", "不支持的文件类型"),
    422: ("validation_error", "填写的内容有误，请检查"),
    429: ("rate_limited", "操作太频繁，请稍后再试"),
    500: ("internal_error", "服务器开小差了，请稍后再试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后再试"),
}


class DomainError(Exception):
    """An expected failure with a stable key; raised by operations, mapped to HTTP here."""

    status = 400
    key = "bad_request"
    detail = "请求有误"

    def __init__(self, detail: str | None = None, *, key: str | None = None,
                 status: int | None = None, errors: dict | None = None,
                 headers: dict | None = None):
        super().__init__(detail or self.detail)
        if detail:
            self.detail = detail
        if key:
            self.key = key
        if status:
            self.status = status
        self.errors = errors or {}
        self.headers = headers or {}


class Unauthorized(DomainError):
    status, key, detail = 401, "unauthorized", "请先登录"


class Forbidden(DomainError):
    status, key, detail = 403, "forbidden", "没有权限进行此操作"


class NotFound(DomainError):
    status, key, detail = 404, "not_found", "内容不存在"


class Conflict(DomainError):
    status, key, detail = 409, "conflict", "内容已被他人修改，请刷新后重试"


class Invalid(DomainError):
    status, key, detail = 422, "validation_error", "填写的内容有误，请检查"


class ServiceUnavailable(DomainError):
    status, key, detail = 503, "service_unavailable", "服务暂时不可用，请稍后再试"


def envelope(status: int, key: str, detail: str, errors: dict | None = None) -> dict:
    body_errors = dict(errors or {})
    body_errors.setdefault("detail", detail)
    return {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": key,
        "errors": body_errors,
    }


def respond(status: int, key: str, detail: str, errors=None, headers=None):
    response = jsonify(envelope(status, key, detail, errors))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def conflict_response():
    """Another request changed the same row first (optimistic concurrency)."""
    return respond(409, "conflict", "内容已被他人修改，请刷新后重试")


# MySQL: deadlock, lock wait timeout. The transaction lost a race: the client may retry.
_LOST_RACE = {1213, 1205}


def database_error_response(err: OperationalError):
    code = err.orig.args[0] if err.orig is not None and err.orig.args else None
    if code in _LOST_RACE or "database is locked" in str(err.orig):
        return conflict_response()
    log.error("database unavailable: %s %s", type(err.orig).__name__, code)
    return respond(503, "database_unavailable", "服务暂时不可用，请稍后再试", headers={"Retry-After": "5"})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        return respond(err.status, err.key, err.detail, err.errors, err.headers)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        key, detail = _BY_STATUS.get(status, ("error", err.description or "请求有误"))
        errors = {}
        data = getattr(err, "data", None) or {}
        # webargs/flask-smorest attach field messages under data["messages"]
        if isinstance(data, dict) and data.get("messages"):
            errors["fields"] = data["messages"]
        headers = dict(data.get("headers") or {}) if isinstance(data, dict) else {}
        if status == 429 and "Retry-After" not in headers and RETRY_AFTER in current_app.extensions:
            headers["Retry-After"] = current_app.extensions[RETRY_AFTER](err)
        if status == 405 and getattr(err, "valid_methods", None):
            headers["Allow"] = ", ".join(err.valid_methods)
        return respond(status, key, detail, errors, headers)

    @app.errorhandler(StaleDataError)
    def _stale(err: StaleDataError):
        from .extensions import db

        db.session.rollback()
        return conflict_response()

    @app.errorhandler(OperationalError)
    def _operational(err: OperationalError):
        from .extensions import db

        db.session.rollback()
        return database_error_response(err)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        key, detail = _BY_STATUS[500]
        return respond(500, key, detail)
