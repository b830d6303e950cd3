"""Open311 GeoReport v2 at /open311/v2/: thin views over `operations`, answered in the
format the URL names (.json or .xml), errors as the spec's list of {code, description}.
Queries and forms are parsed by `schemas`; every view that takes an api_key counts it
against the per-key limit (`ratelimit.per_key`).

A plain Flask blueprint, not flask-smorest: the formats, names and error shapes are the
spec's, not our API's.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, request, url_for
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db
from ..ops.ratelimit import rate_limit, retry_after
from . import formats, keys, operations, ratelimit, schemas
from .errors import Open311Error

log = logging.getLogger(__name__)

blp = Blueprint("open311", __name__, url_prefix="/open311")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_HTTP_DESCRIPTIONS = {
    404: "resource not found",
    405: "method not allowed for this resource",
    413: "request body too large",
    429: "too many requests from this address; retry later",
}


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in formats.FORMATS:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


def _client(required: bool = False):
    """The caller's API key: needed to file, optional to read (a wrong one is 403 either way)."""
    return keys.authenticate(request.values.get("api_key"), required)


def _extensions() -> bool:
    return schemas.parse(schemas.ExtensionsSchema(), request.values)["extensions"]


@blp.before_request
def _jurisdiction():
    operations.check_jurisdiction(request.values.get("jurisdiction_id"))


@blp.errorhandler(Exception)
def _error(err: Exception):
    fmt = _fmt()
    if isinstance(err, Open311Error):
        return formats.errors(fmt, err.status, err.problems, err.headers)
    if isinstance(err, DomainError):
        status = {401: 403, 403: 403, 404: 404, 429: 429}.get(err.status, 400)
        return formats.errors(fmt, status, [(status, f"{err.key}: {err.detail}")], err.headers)
    if isinstance(err, RateLimitExceeded) and err.limit.scope == ratelimit.SCOPE:
        retry = retry_after(err)
        return formats.errors(fmt, 429, [(429, ratelimit.exceeded(err.limit.limit, retry))], {"Retry-After": retry})
    if isinstance(err, HTTPException):
        status = err.code if err.code in (403, 404, 429) else 400
        description = _HTTP_DESCRIPTIONS.get(err.code, "the request is invalid")
        headers = {"Retry-After": retry_after(err)} if status == 429 else None  # flask-limiter's per-address limit
        return formats.errors(fmt, status, [(status, description)], headers)
    db.session.rollback()
    if isinstance(err, (OperationalError, StaleDataError)):
        return formats.errors(fmt, 503, [(503, "service temporarily unavailable; retry later")], {"Retry-After": "5"})
    log.exception("open311: unhandled error")
    return formats.errors(fmt, 500, [(500, "internal error; the operators have been told")])


@blp.get("/v2/discovery.<any(json, xml):fmt>")
@blp.get("/discovery.<any(json, xml):fmt>")
def discovery(fmt):
    """Service Discovery: where the endpoint is, its formats, how to get a key."""
    base = url_for("open311.list_services", fmt="json", _external=True).removesuffix("/services.json")
    return formats.render(fmt, "discovery", operations.discovery(base))


@blp.get("/v2/")
def root():
    return discovery("json")


@blp.get("/v2/services.<any(json, xml):fmt>")
@ratelimit.per_key
def list_services(fmt):
    _client()
    return formats.render(fmt, "services", [formats.service(c) for c in operations.services()])


@blp.get("/v2/services/<code>.<any(json, xml):fmt>")
@ratelimit.per_key
def service_definition(code, fmt):
    _client()
    return formats.render(fmt, "service_definition", formats.service_definition(operations.service(code)))


@blp.get("/v2/requests.<any(json, xml):fmt>")
@ratelimit.per_key
def list_requests(fmt):
    _client()
    query = schemas.parse(schemas.RequestsQuerySchema(), request.args)
    tickets, more = operations.find_requests(query)
    headers = {}
    if more and query.page < schemas.MAX_PAGE:
        args = request.args.to_dict()
        args["page"] = str(query.page + 1)
        headers["Link"] = f'<{url_for("open311.list_requests", fmt=fmt, _external=True, **args)}>; rel="next"'
    return formats.render(fmt, "service_requests", operations.present(tickets, query.extensions), headers=headers)


@blp.post("/v2/requests.<any(json, xml):fmt>")
@rate_limit("RATELIMIT_OPEN311_POST")
@ratelimit.per_key
def create_request(fmt):
    key = _client(required=True)
    extensions = _extensions()
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise Open311Error(400, "Idempotency-Key must be 8 to 64 letters, digits or -_.:")
    ticket, created = operations.create_request(key, request.form, idempotency_key)
    row = {"service_request_id": str(ticket.id), "service_notice": formats.time_limits(ticket.category)}
    if extensions:
        row["token"] = operations.issue_token(ticket)
    return formats.render(fmt, "service_requests", [row], 201 if created else 200)


@blp.get("/v2/requests/<request_id>.<any(json, xml):fmt>")
@ratelimit.per_key
def get_request(request_id, fmt):
    _client()
    extensions = _extensions()
    return formats.render(fmt, "service_requests", operations.present([operations.get_request(request_id)], extensions))


@blp.get("/v2/tokens/<token>.<any(json, xml):fmt>")
@ratelimit.per_key
def get_token(token, fmt):
    _client()
    ticket = operations.resolve_token(token)
    return formats.render(fmt, "service_requests", [{"service_request_id": str(ticket.id), "token": token}])


@blp.post("/v2/media.<any(json, xml):fmt>")
@rate_limit("RATELIMIT_OPEN311_POST")
@ratelimit.per_key
def upload_media(fmt):
    """Extension: upload one photo; its media_url may then be given to POST requests."""
    key = _client(required=True)
    item = operations.upload_media(key, request.files.get("file"))
    return formats.render(fmt, "media_uploads", [operations.media_document(item)], 201)


@blp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(**_path):
    """Unknown paths and formats are 404; a known resource asked with another method is 400."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "open311.unknown":
            allowed.append(method)
    if allowed:
        raise Open311Error(400, f"{request.method} is not allowed here; use {' or '.join(allowed)}")
    raise Open311Error(404, "resource not found; see /open311/v2/discovery.json")
