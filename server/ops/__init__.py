"""Operations: request ids and JSON logs, Prometheus metrics, readiness, rate limits, and
the refusal of text no column can store.

`init_app` is called from `create_app` before the other request hooks are registered,
so its `after_request` runs last and sees the response every other hook produced.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from ..extensions import limiter
    from . import logs, metrics, ratelimit

    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        # Behind nginx (and a load balancer): the client address comes from
        # X-Forwarded-For, trusted for exactly this many hops.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    logs.configure_logging(app)
    logs.install_request_hooks(app, on_finish=metrics.observe_request)
    ratelimit.prepare_config(app)
    limiter.init_app(app)
    ratelimit.register_breach_handler(app)
    app.before_request(refuse_unstorable_text)


def refuse_unstorable_text():
    """Query strings and form fields with a NUL character are refused at the door (400), as
    JSON bodies are (jsonio.loads_request): no column or XML answer can hold one."""
    from flask import request

    from ..errors import DomainError

    sources = [request.args]
    if request.mimetype == "application/x-www-form-urlencoded":  # a multipart upload is not read here
        sources.append(request.form)
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise DomainError("提交的内容含有无法保存的字符", status=400, key="invalid_text")
