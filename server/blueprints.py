"""Every blueprint, and the endpoints that belong to no domain (health)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, jsonify

from .extensions import db


def register(app: Flask, api) -> None:
    from . import models  # noqa: F401  (every mapper configured before the first request)
    from .auth.api import blp as auth_blp
    from .categories.api import blp as categories_blp
    from .media.api import blp as media_blp
    from .moderation.api import blp as moderation_blp
    from .notifications.api import blp as notifications_blp
    from .privacy.api import blp as privacy_blp
    from .stats.api import bulletins_blp, stats_blp
    from .tickets.api import blp as tickets_blp
    from .topics.api import blp as topics_blp
    from .units.api import blp as units_blp
    from .votes.api import blp as votes_blp

    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blp in (auth_blp, units_blp, categories_blp, media_blp, tickets_blp, notifications_blp, privacy_blp,
                moderation_blp, stats_blp, bulletins_blp, topics_blp, votes_blp):
        api.register_blueprint(blp)

    from .open311.api import blp as open311_blp

    app.register_blueprint(open311_blp)

    from .ops.views import blp as ops_blp  # /readyz, /metrics

    app.register_blueprint(ops_blp)

    from .console import blueprint as console_blueprint  # the office console, server-rendered, at /

    app.register_blueprint(console_blueprint())

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            return jsonify({"status": "error", "database": "unreachable"}), 503
        return jsonify({"status": "ok", "database": "ok"})
