"""JSON in and out through orjson: answers, request bodies and the rows the database
answers as JSON objects (server/sqljson.py).

The standard library's encoder and decoder are C too, but orjson is several times faster
at both, and a page of twenty tickets is twenty objects to parse and one large answer to
write. Answers read as Flask's always did: keys sorted, no ASCII escaping of Chinese, times
and anything else orjson does not know handed to Flask's own conversion (an HTTP date for a
datetime, as before). Calls that ask for the standard library's options (indent, say) get
the standard library, and so does what orjson refuses but JSON allows (an integer beyond 64
bits, which a client may send and an error message may echo).
"""
from __future__ import annotations

import json

import orjson
from flask.json.provider import DefaultJSONProvider
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def loads(text):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # the standard library's verdict (and error) on what orjson refuses


# A request body nests no deeper than this; no real client sends more than a few levels.
MAX_DEPTH = 32
INT_LIMIT = 2**63 - 1


class BadJSON(json.JSONDecodeError):
    """A request body that is JSON but cannot be stored: answered 400 like malformed JSON."""

    def __init__(self, why: str):
        super().__init__(why, "", 0)


def _bounded_int(digits: str) -> int:
    # Checked on the digits, before Python converts them (past 4,300 digits it refuses with a ValueError).
    if len(digits.lstrip("-")) > 19 or abs(int(digits)) > INT_LIMIT:
        raise BadJSON("integer out of range")
    return int(digits)


def _refuse_constant(name: str):
    raise BadJSON(f"{name} is not a number")


def _check(value, depth: int = 1) -> None:
    if depth > MAX_DEPTH:
        raise BadJSON("nested too deep")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadJSON("NUL in a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadJSON("a lone surrogate in a string") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def loads_request(data: bytes | str):
    """A request body: JSON that can be stored, or BadJSON (a ValueError). Refused: nesting
    deeper than MAX_DEPTH, integers beyond 64 bits (checked before Python converts them),
    NaN and Infinity, NUL and lone UTF-16 surrogates in any string or key."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadJSON("not UTF-8") from None
    try:
        value = json.loads(data, parse_int=_bounded_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise BadJSON("nested too deep") from None
    _check(value)
    return value


def dumps_bytes(value) -> bytes:
    try:
        return orjson.dumps(value, default=DefaultJSONProvider.default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=DefaultJSONProvider.default, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()


class Provider(DefaultJSONProvider):
    ensure_ascii = False

    def dumps(self, obj, **kwargs) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return dumps_bytes(obj).decode()

    def loads(self, s, **kwargs):
        """Request bodies (request.get_json) are read strictly (loads_request)."""
        if kwargs:
            return super().loads(s, **kwargs)
        return loads_request(s)

    def response(self, *args, **kwargs):
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)  # indented, for people reading it
        body = dumps_bytes(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)


class StrictParser(FlaskParser):
    """webargs' parser for every flask-smorest view, reading JSON bodies with loads_request."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        return loads_request(req.get_data(cache=True))
