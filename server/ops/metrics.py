"""Prometheus metrics for `/metrics`.

* `gongzhi_http_request_duration_seconds{endpoint,method,status}`: a histogram of the time
  to answer, labelled by the Flask endpoint name (never the raw path, which would make a
  series per ticket id).
* Gauges read at scrape time with cheap COUNT queries: the notification outbox
  (`gongzhi_outbox_depth{state}`, `gongzhi_outbox_oldest_due_seconds`) and the open tickets
  (`gongzhi_tickets_open{status}`, `gongzhi_tickets_overdue`).

Under gunicorn with several workers each worker counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (before the process starts) prometheus_client keeps the
counts in files there and a scrape of any worker adds them all up. deploy/gunicorn.conf.py
empties that directory when the master starts and marks dead workers.
"""
from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from ..timeutil import utcnow

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "gongzhi_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint, method and status",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(endpoint=endpoint, method=method, status=str(status)).observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _ThisProcess:
    """The default registry (this process's histogram, process and GC metrics)."""

    def collect(self):
        return REGISTRY.collect()


class DatabaseCollector:
    """Outbox depth and overdue tickets, counted when Prometheus asks."""

    def collect(self):
        from ..extensions import db
        from ..notifications.models import PENDING, SENDING, Notification
        from ..tickets.lifecycle import OPEN, Status
        from ..tickets.models import Ticket

        up = GaugeMetricFamily("gongzhi_metrics_database_up", "1 when the gauges below could be read")
        try:
            now = utcnow()
            depth = dict(db.session.execute(
                sa.select(Notification.state, sa.func.count()).where(Notification.state.in_([PENDING, SENDING]))
                .group_by(Notification.state)).all())
            oldest_due = db.session.execute(
                sa.select(sa.func.min(Notification.next_attempt_at))
                .where(Notification.state == PENDING, Notification.next_attempt_at <= now)).scalar()
            by_status = dict(db.session.execute(
                sa.select(Ticket.status, sa.func.count()).where(Ticket.status.in_(list(OPEN)))
                .group_by(Ticket.status)).all())
            working = [Status.accepted, Status.deliberating, Status.assigned, Status.in_progress]
            overdue = db.session.execute(sa.select(sa.func.count()).select_from(Ticket).where(
                Ticket.status.in_(list(OPEN)),
                sa.or_(Ticket.overdue.is_(True),
                       sa.and_(Ticket.status == Status.submitted, Ticket.respond_by < now),
                       sa.and_(Ticket.status.in_(working), Ticket.resolve_by < now))
            )).scalar_one()
        except sa.exc.SQLAlchemyError as err:
            db.session.rollback()
            log.warning("metrics: database unavailable (%s)", type(err).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        outbox = GaugeMetricFamily("gongzhi_outbox_depth", "Notifications not yet delivered, by state",
                                   labels=["state"])
        for state in (PENDING, SENDING):
            outbox.add_metric([state], depth.get(state, 0))
        yield outbox

        age = 0.0
        if oldest_due is not None:
            age = max(0.0, (now.replace(tzinfo=None) - oldest_due.replace(tzinfo=None)).total_seconds())
        yield GaugeMetricFamily("gongzhi_outbox_oldest_due_seconds",
                                "How long the oldest notification due for sending has waited", value=age)

        tickets = GaugeMetricFamily("gongzhi_tickets_open", "Open tickets, by status", labels=["status"])
        for status in sorted(OPEN, key=lambda s: s.value):
            tickets.add_metric([status.value], by_status.get(status, 0))
        yield tickets
        yield GaugeMetricFamily("gongzhi_tickets_overdue", "Open tickets past their response or resolution time",
                                value=overdue)
        from ..replica import replica

        found = replica()
        if found is not None:
            yield GaugeMetricFamily("gongzhi_replica_in_use", "1 while lag-tolerant reads go to the read replica",
                                    value=1 if found.usable() else 0)


def render() -> tuple[bytes, str]:
    """The exposition text for one scrape and its content type."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path:
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
