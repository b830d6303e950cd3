"""`/readyz` (may this process take traffic) and `/metrics` (Prometheus), beside `/healthz`."""
from __future__ import annotations

import ipaddress
import logging

from flask import Blueprint, Response, current_app, jsonify, request

from ..errors import NotFound
from . import health, metrics

log = logging.getLogger(__name__)

blp = Blueprint("ops", __name__)


@blp.get("/readyz")
def readyz():
    ready, checks = health.readiness()
    return jsonify({"status": "ok" if ready else "error", "checks": checks}), 200 if ready else 503


def _networks(raw: str):
    nets = []
    for part in (raw or "").replace(" ", "").split(","):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            log.warning("METRICS_ALLOW: %r is not an address or network; ignored", part)
    return nets


def metrics_allowed(address: str | None) -> bool:
    """METRICS_ALLOW: comma-separated addresses or networks allowed to scrape; `*` for all."""
    raw = str(current_app.config.get("METRICS_ALLOW") or "")
    if raw.strip() == "*":
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _networks(raw))


@blp.get("/metrics")
def prometheus():
    if not metrics_allowed(request.remote_addr):
        # Answered like any unknown path: nothing here for the public.
        raise NotFound()
    body, content_type = metrics.render()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
