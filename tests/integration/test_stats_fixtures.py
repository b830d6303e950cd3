"""The hand-computed October 2026 of the demo district, shared by the report-card tests.

Tickets are inserted with explicit timestamps, exactly as the ticket operations leave
them (a transfer resets respond_by and resolve_by, a redo clears resolved_at and resets
resolve_by, a rating closes). Categories: streetlight answers in 24 h and resolves in
7 days; safety_hazard in 1 h and 2 h. The expected figures below were worked out by hand
in docs/REPORT-CARD.md's terms; `as_of` is after every deadline.

This module holds no tests; it is named so only to live beside them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from server.categories.models import Category
from server.extensions import db
from server.tickets.lifecycle import MACHINE
from server.tickets.models import Ticket
from server.units.models import Unit

UTC = timezone.utc
H = timedelta(hours=1)
D = timedelta(days=1)
US = timedelta(microseconds=1)
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def at(month, day, hour=0, minute=0, second=0, micro=0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, micro, tzinfo=UTC)


def _unit(code: str) -> Unit:
    return db.session.execute(sa.select(Unit).where(Unit.code == code)).scalar_one()


def _category(code: str) -> Category:
    return db.session.execute(sa.select(Category).where(Category.code == code)).scalar_one()


@MACHINE.operation  # a fixture writes the columns the operations would have
def add_ticket(unit_code: str, created: datetime, category: str = "streetlight", **columns) -> Ticket:
    """A ticket as `report` leaves it, then the columns later operations changed."""
    cat = _category(category)
    resolve = timedelta(hours=cat.resolve_hours) if cat.resolve_hours else timedelta(days=cat.resolve_days)
    values = dict(category_id=cat.id, unit_id=_unit(unit_code).id, description="路灯不亮", lat=30.57, lng=114.27,
                  status="submitted", respond_by=created + timedelta(hours=cat.respond_hours),
                  resolve_by=created + resolve, created_at=created, updated_at=created)
    values.update(columns)
    ticket = Ticket(**values)
    db.session.add(ticket)
    return ticket


def closed(created, responded, resolved, rating=None, **extra):
    """Answered, then rated (or closed unrated when rating is None)."""
    return dict(status="closed", responded_at=created + responded, resolved_at=created + resolved,
                closed_at=created + resolved + D, rating=rating, **extra)


def build_october() -> None:
    """The tickets t1..t18 of the report-card docs (t15 and t17 fall outside October)."""
    hq1, hq1_1, hq1_2 = "gz-demo-hq-1", "gz-demo-hq-1-1", "gz-demo-hq-1-2"
    # t1: answered in 2 h, resolved in 3 days, satisfied
    c = at(10, 10, 2)
    add_ticket(hq1_2, c, **closed(c, 2 * H, 3 * D, "satisfied"))
    # t2: late response (30 h > 24 h), late resolution (8 d > 7 d), basically satisfied
    c = at(10, 11, 2)
    add_ticket(hq1, c, **closed(c, 30 * H, 8 * D, "basically_satisfied"))
    # t3: returned out of scope in 1 h: a response, not the unit's to resolve
    c = at(10, 12, 2)
    add_ticket(hq1, c, status="returned", return_reason="out_of_scope", responded_at=c + H, closed_at=c + H)
    # t4: returned for more information in 5 h: a response, still to be resolved
    c = at(10, 12, 3)
    add_ticket(hq1, c, status="returned", return_reason="needs_info", responded_at=c + 5 * H, closed_at=c + 5 * H)
    # t5: dissatisfied, redone within the new limit, then satisfied
    c = at(10, 13, 2)
    add_ticket(hq1, c, status="closed", responded_at=c + H, resolved_at=c + 5 * D, resolve_by=c + 2 * D + H + 7 * D,
               redo_count=1, rating="satisfied", closed_at=c + 6 * D)
    # t6: dissatisfied, the redo still open past its new limit
    c = at(10, 14, 2)
    add_ticket(hq1, c, status="assigned", responded_at=c + H, resolved_at=None, resolve_by=c + D + H + 7 * D,
               redo_count=1)
    # t7 (a compound below): resolved in a day, waiting for the rating
    c = at(10, 15, 2)
    add_ticket(hq1_1, c, status="resolved", responded_at=c + H, resolved_at=c + D)
    # t8 (a compound below): resolved in 2 days, closed unrated
    c = at(10, 16, 2)
    add_ticket(hq1_1, c, **closed(c, H, 2 * D))
    # t9: withdrawn after 2 h, before anyone responded: leaves the response base
    c = at(10, 17, 2)
    add_ticket(hq1, c, status="withdrawn", closed_at=c + 2 * H)
    # t10: withdrawn after 30 h, nobody responded: a late response
    c = at(10, 18, 2)
    add_ticket(hq1, c, status="withdrawn", closed_at=c + 30 * H)
    # t11: 桃源社区 transferred it here after 30 h (fresh limits from then), accepted, still open
    c = at(10, 19, 2)
    add_ticket(hq1, c, status="accepted", responded_at=c + 30 * H, respond_by=c + 54 * H,
               resolve_by=c + 30 * H + 7 * D)
    # t12: 桃源社区 transferred it here after 2 h; resolved in 3 days; satisfied
    c = at(10, 20, 2)
    add_ticket(hq1, c, **closed(c, 2 * H, 3 * D, "satisfied", respond_by=c + 26 * H, resolve_by=c + 2 * H + 7 * D))
    # t13: never responded
    c = at(10, 21, 2)
    add_ticket(hq1, c)
    # t14: 23:00 on 31 October Beijing time, accepted 00:30 on 1 November: October, on time
    c = at(10, 31, 15)
    add_ticket(hq1, c, status="resolved", responded_at=at(10, 31, 16, 30), resolved_at=at(11, 3, 15))
    # t15: 00:30 on 1 November Beijing time (31 October in UTC): November
    add_ticket(hq1, at(10, 31, 16, 30))
    # t16: 00:00:00 on 1 October Beijing time; responded exactly at respond_by, resolved 1 µs late
    c = at(9, 30, 16)
    add_ticket(hq1, c, **closed(c, 24 * H, 7 * D + US, "satisfied"))
    # t17: 23:59:59.999999 on 30 September Beijing time: September
    add_ticket(hq1, at(9, 30, 15, 59, 59, 999999))
    # t18: safety hazard: accepted after 2 h (limit 1 h), resolved after 3 h (limit 2 h), satisfied
    c = at(10, 22, 2)
    add_ticket(hq1, c, category="safety_hazard", **closed(c, 2 * H, 3 * H, "satisfied"))

    # 桃源社区: five tickets, each answered in 1 h, resolved in a day, satisfied
    for day in range(1, 6):
        c = at(10, day, 2)
        add_ticket("gz-demo-hq-2", c, **closed(c, H, D, "satisfied"))
    # 民意社区: one perfect ticket, below the ranking minimum
    c = at(10, 9, 2)
    add_ticket("gz-demo-my-1", c, **closed(c, H, D, "satisfied"))
    db.session.flush()


# 花桥社区 (gz-demo-hq-1) and below, October 2026, as of AS_OF.
HQ1_OCTOBER = {
    "received": 16, "response_base": 15, "responded_in_time": 10, "response_rate": 0.6667,
    "should_resolve": 13, "resolved": 9, "resolution_rate": 0.6923,
    "resolved_on_time": 6, "on_time_resolution_rate": 0.4615,
    "rated": 7, "satisfied": 5, "basically_satisfied": 1, "dissatisfied": 1, "satisfaction_rate": 0.8571,
    "unrated": 3, "overdue": 7, "redo": 2,
    "avg_response_hours": 7.81, "median_response_hours": 2.0,
    "avg_resolution_hours": 85.67, "median_resolution_hours": 72.0,
    "score": 0.7341, "ranked": True,
}

# 花桥街道 (gz-demo-hq): 花桥社区 plus 桃源社区's five.
HQ_OCTOBER = {
    "received": 21, "response_base": 20, "responded_in_time": 15, "response_rate": 0.75,
    "should_resolve": 18, "resolved": 14, "resolution_rate": 0.7778,
    "resolved_on_time": 11, "on_time_resolution_rate": 0.6111,
    "rated": 12, "satisfied": 10, "basically_satisfied": 1, "dissatisfied": 1, "satisfaction_rate": 0.9167,
    "unrated": 3, "overdue": 7, "redo": 2,
}
