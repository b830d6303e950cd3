"""Every answer a test gets from the app is checked against the OpenAPI document the app
serves (/api/openapi.json): the schema its operation declares for that status (the error
envelope for an error), and the content type. The validation is schemathesis's own (the
same checks as the fuzz run's response_schema_conformance), so a field the document does
not declare, a wrong type or a missing envelope key fails the test that received it.

A JSON answer under /api/ from a view that is not in the document fails too.
Paths outside /api/ (Open311, /healthz, /media) have documents of their own or none.
"""
from __future__ import annotations

from functools import cache

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.test import Client, TestResponse

SPEC_PATH = "/api/openapi.json"


@cache
def document(app: Flask):
    """The served document as schemathesis reads it, once per app."""
    res = Client(app).get(SPEC_PATH)
    assert res.status_code == 200, res.status
    return schemathesis.openapi.from_dict(res.get_json())


def _api_route(app: Flask, method: str, path: str) -> bool:
    """A view of the app answers this (not a static file's folder, whose JSON is a 404)."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return False
    return not endpoint.endswith("static")


def check(app: Flask, response: TestResponse) -> None:
    """Raise (schemathesis's FailureGroup, or AssertionError) when the answer does not
    match what the document says its operation answers."""
    __tracebackhide__ = True
    request = response.request
    path = request.path
    if not path.startswith("/api/") or path == SPEC_PATH:
        return
    operation = document(app).find_operation_by_path(request.method, path)
    if operation is None:
        assert not (response.is_json and _api_route(app, request.method, path)), (
            f"{request.method} {path} answered JSON but is not in the OpenAPI document")
        return
    operation.validate_response(response)


class DocumentedClient(FlaskClient):
    """The test client, every answer checked against the OpenAPI document."""

    def open(self, *args, **kwargs):
        __tracebackhide__ = True
        response = super().open(*args, **kwargs)
        check(self.application, response)
        return response
