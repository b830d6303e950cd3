"""Open311's own error: an HTTP status and the spec's list of {code, description}.

Descriptions are English, like the spec's examples and the parameter names they talk
about; a refusal that comes from a ticket rule carries its stable key and its Chinese
sentence for the person who filed it.
"""
from __future__ import annotations


class Open311Error(Exception):
    def __init__(self, status: int, *problems: str, headers: dict | None = None):
        super().__init__(problems[0] if problems else str(status))
        self.status = status
        self.problems = [(status, p) for p in problems]
        self.headers = headers or {}
