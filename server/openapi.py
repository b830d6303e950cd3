"""The OpenAPI document's shared parts: the error envelope every error answers (see
errors.py), the Api that declares it as every operation's default response, and `answer`,
which marks a response schema's always-present fields as required.

Nullable nested objects: apispec writes them for OpenAPI 3.0 as
`anyOf: [{type: object, nullable: true}, {$ref}]`, whose first branch admits any object,
so the nested schema would bind nothing. Here the first branch admits null alone.
"""
from __future__ import annotations

import copy

import flask_smorest
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

_ANY_OBJECT_OR_NULL = {"type": "object", "nullable": True}
_NULL = {"nullable": True, "enum": [None]}

# Messages: a list of sentences, or an object of them by field (or a list's index), nested as the input is.
_Messages = lambda: fields.Raw(metadata={  # noqa: E731
    "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]})


class ErrorDetails(Schema):
    detail = fields.String(required=True, metadata={"description": "a sentence for people (Chinese)"})
    field_messages = fields.Dict(keys=fields.String(), values=_Messages(), data_key="fields", metadata={
        "description": "input rejected, by location (json, query, form), then by field"})
    category = fields.String(metadata={"description": "unknown_category: the code sent"})
    media = fields.Integer(metadata={"description": "invalid_media: the photo's id"})
    policy_version = fields.String(metadata={"description": "consent_required: the policy to agree to"})
    errcode = fields.Integer(metadata={"description": "WeChat's refusals (login, phone): WeChat's own errcode"})
    problems = fields.List(fields.String(), metadata={"description": "invalid_roll: what is wrong, row by row"})
    field = fields.String(metadata={"description": "text_required, text_too_long: the field, in Chinese"})


class ErrorSchema(Schema):
    """Every error: `message` is a stable snake_case key to switch on, `errors.detail` a sentence."""

    code = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    status = fields.String(required=True, metadata={"description": "the status's phrase"})
    message = fields.String(required=True, metadata={"description": "a stable key, e.g. validation_error"})
    errors = fields.Nested(ErrorDetails, required=True)


def answer(*optional: str):
    """Class decorator for a shape answered: each of its fields is in every answer (the
    document lists them as required) but those named. The schema's own copies are marked,
    never a field object another schema shares."""

    def mark(schema: type[Schema]) -> type[Schema]:
        unknown = set(optional) - set(schema._declared_fields)
        if unknown:
            raise TypeError(f"{schema.__name__} has no field {sorted(unknown)}")
        schema._declared_fields = {name: copy.copy(field) for name, field in schema._declared_fields.items()}
        for name, field in schema._declared_fields.items():
            field.required = name not in optional
        return schema

    return mark


def _null_or_nested(converter, field, ret, **kwargs) -> dict:
    any_of = ret.get("anyOf")
    if any_of and _ANY_OBJECT_OR_NULL in any_of:
        return {"anyOf": [_NULL if branch == _ANY_OBJECT_OR_NULL else branch for branch in any_of]}
    return {}


class _Plugin(MarshmallowPlugin):
    def init_spec(self, spec):
        super().init_spec(spec)
        self.converter.add_attribute_function(_null_or_nested)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        super().__init__(app, spec_kwargs={"marshmallow_plugin": _Plugin(), **(spec_kwargs or {})}, **kwargs)
