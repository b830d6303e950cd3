"""The office console (办公台): server-rendered pages (Jinja + htmx) for staff, at `/`.

`web.py` is the foundation (blueprint, sign-in door, CSRF, navigation, scope and audit
helpers); each other module adds pages. docs/CONSOLE.md tells how to add one.
"""
from __future__ import annotations


def blueprint():
    """The blueprint with every page registered."""
    from . import (  # noqa: F401  (they register their views)
        auth_views,
        categories,
        dashboard,
        filters,
        keys,
        moderation,
        posts,
        public_views,
        reports,
        tickets,
        topics,
        units,
        wecom_login,
    )
    from .web import bp

    return bp
