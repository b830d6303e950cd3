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

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def loads(text):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # the standard library's verdict (and error) on what orjson refuses


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
        if kwargs:
            return super().loads(s, **kwargs)
        return loads(s)

    def response(self, *args, **kwargs):
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)  # indented, for people reading it
        body = dumps_bytes(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)
