"""Every answer a test gets from the app is checked against the OpenAPI document the app
serves (/api/openapi.json): the schema its operation declares for that status (the error
envelope for an error), the status and the content type. The checks are schemathesis's own
(those the fuzz run makes), so a field the document does not declare, a wrong type, a
missing envelope key or an undeclared content type fails the test that received it.

A JSON answer under /api/ from a view that is not in the document fails too. Paths outside
/api/ that the document does not name (Open311, /healthz) have documents of their own or none.

What a view returns through its response schema is checked before the dump as well
(`DroppedKeys`): marshmallow leaves out, without a word, a dict's keys that the schema does
not declare, so an answer would lose what the operation gathered and no check would see it.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import cache

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.exceptions import HTTPException
from werkzeug.test import Client, TestResponse

SPEC_PATH = "/api/openapi.json"


@cache
def document(app: Flask):
    """The served document as schemathesis reads it, once per app."""
    res = Client(app).get(SPEC_PATH)
    assert res.status_code == 200, res.status
    return schemathesis.openapi.from_dict(res.get_json())


# What the fuzz run checks too: the body against its schema, the status and the content type.
CHECKS = [response_schema_conformance, status_code_conformance, content_type_conformance]


def check(app: Flask, response: TestResponse) -> None:
    """Raise (schemathesis's failure, an AssertionError) when the answer is not what the
    document says its operation answers."""
    __tracebackhide__ = True
    method, path = response.request.method, response.request.path
    try:
        endpoint, path_parameters = app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return  # no view answered (a 404 or 405 of the router's own)
    operation = document(app).find_operation_by_path(method, path)
    if operation is None:
        # A static file's folder answers a missing file with the JSON envelope.
        assert not (path.startswith("/api/") and path != SPEC_PATH and response.is_json
                    and not endpoint.endswith("static")), f"{method} {path} answered JSON but is not in the OpenAPI document"
        return
    operation.Case(path_parameters=path_parameters).validate_response(response, checks=CHECKS)


class DocumentedClient(FlaskClient):
    """The test client, every answer checked against the OpenAPI document."""

    def open(self, *args, **kwargs):
        __tracebackhide__ = True
        response = super().open(*args, **kwargs)
        check(self.application, response)
        return response


@contextmanager
def dropped_keys():
    """Within it, every schema dump of a dict notes the keys its schema does not declare;
    yields the list of (schema, keys) noted."""
    noted: list[tuple[str, list[str]]] = []
    before = Schema.dump
    dump = getattr(before, "__wrapped__", before)  # within another: this one notes alone

    def noting_dump(self, obj, *, many=None):
        declared = {field.attribute or name for name, field in self.fields.items()}
        for item in (obj if (self.many if many is None else many) else [obj]):
            if isinstance(item, dict) and not declared.issuperset(item):
                noted.append((type(self).__name__, sorted(set(item) - declared)))
        return dump(self, obj, many=many)

    noting_dump.__wrapped__ = dump
    Schema.dump = noting_dump
    try:
        yield noted
    finally:
        Schema.dump = before
