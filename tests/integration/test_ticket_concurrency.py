"""Concurrent conflicting actions: exactly one wins, the rest get 409 conflict.
Real threads, each with its own connection (and, on MySQL, its own transaction)."""
import threading

import sqlalchemy as sa

from server.extensions import db
from server.tickets.models import Ticket, TicketEvent, TicketRating
from tests.api.helpers import act, photo, report

N = 8


def test_n_concurrent_resolves_have_exactly_one_winner(demo, login):
    client = demo.test_client()
    resident, grid = login("resident"), login("grid")
    tid = report(client, resident).json["id"]
    act(client, grid, tid, "accept")
    photos = [photo(client, grid) for _ in range(N)]
    db.session.commit()
    db.session.remove()

    barrier = threading.Barrier(N)
    statuses, errors = [], []

    def attempt(media_id):
        try:
            with demo.app_context():
                c = demo.test_client()
                barrier.wait(timeout=10)
                res = c.post(f"/api/v1/tickets/{tid}/resolve", json={"note": "已处理", "media": [media_id]}, headers=grid)
                statuses.append((res.status_code, (res.json or {}).get("message")))
        except Exception as exc:  # noqa: BLE001  (surfaced by the assertion below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(m,)) for m in photos]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    codes = sorted(s for s, _ in statuses)
    assert codes.count(200) == 1, statuses
    assert all(s == 409 for s, _ in statuses if s != 200), statuses
    assert {m for s, m in statuses if s == 409} <= {"conflict", "invalid_transition"}
    resolves = db.session.execute(
        sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == tid, TicketEvent.action == "resolve")
    ).scalar_one()
    assert resolves == 1
    assert db.session.get(Ticket, tid).status.value == "resolved"


def test_n_concurrent_ratings_by_the_reporter_record_one(demo, login):
    """The reporter taps 评价 on two phones at once (or the client retries): one rating and
    one history entry are kept, every other answer is 409, none is a 500."""
    client = demo.test_client()
    resident, grid = login("resident"), login("grid")
    tid = report(client, resident).json["id"]
    act(client, grid, tid, "accept")
    act(client, grid, tid, "resolve", note="已处理", media=[photo(client, grid)])
    db.session.commit()
    db.session.remove()

    barrier = threading.Barrier(N)
    statuses, errors = [], []

    def attempt(rating):
        try:
            with demo.app_context():
                barrier.wait(timeout=10)
                res = demo.test_client().post(f"/api/v1/tickets/{tid}/rate", json={"rating": rating}, headers=resident)
                statuses.append((res.status_code, (res.json or {}).get("message")))
        except Exception as exc:  # noqa: BLE001  (surfaced by the assertion below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(r,)) for r in ["satisfied", "dissatisfied"] * (N // 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(s for s, _ in statuses).count(200) == 1, statuses
    assert all(s == 409 for s, _ in statuses if s != 200), statuses
    ratings = db.session.execute(sa.select(TicketRating).where(TicketRating.ticket_id == tid)).scalars().all()
    events = db.session.execute(sa.select(TicketEvent.action).where(
        TicketEvent.ticket_id == tid, TicketEvent.action.in_(["rate", "redo"]))).scalars().all()
    assert len(ratings) == 1 and len(events) == 1, (ratings, events)


def test_concurrent_retries_with_one_idempotency_key_make_one_ticket(demo, login):
    resident = login("resident")
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(N)
    results = []

    def attempt():
        with demo.app_context():
            barrier.wait(timeout=10)
            res = report(demo.test_client(), resident, key="same-intent-0001")
            results.append((res.status_code, (res.json or {}).get("id")))

    threads = [threading.Thread(target=attempt) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == N
    ids = {i for s, i in results if s in (200, 201)}
    assert len(ids) == 1, results
    assert all(s in (200, 201, 409) for s, _ in results), results
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 1
