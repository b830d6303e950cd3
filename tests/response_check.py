"""Every answer a test gets from the app is checked against the OpenAPI document the app
serves (/api/openapi.json): the schema its operation declares for that status (the error
envelope for an error), the status and the content type. The checks are schemathesis's own
(those the fuzz run makes), so a field the document does not declare, a wrong type, a
missing envelope key or an undeclared content type fails the test that received it.

A JSON answer under /api/ from a view that is not in the document fails too. Paths outside
/api/ that the document does not name (Open311, /healthz) have documents of their own or none.
"""
from __future__ import annotations

from functools import cache

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
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
