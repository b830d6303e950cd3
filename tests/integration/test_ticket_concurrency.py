"""Concurrent conflicting actions: exactly one wins, the rest get 409 conflict.
Real threads, each with its own connection (and, on MySQL, its own transaction)."""
import threading

import pytest
import sqlalchemy as sa

from server.auth.actor import Actor
from server.auth.models import User
from server.extensions import db
from server.tickets import reporting
from server.tickets.models import Ticket, TicketEvent, TicketRating
from server.tickets.schemas import TicketCreateSchema
from tests.api.helpers import IN_HQ_1_1, act, photo, report, user_id
from tests.conftest import MYSQL

N = 8


def _at_once(demo, send, args) -> list[tuple[int, dict]]:
    """send(client, arg) for each arg, in threads released together (each its own app
    context, so its own connection); their (status, body) in the order they finished."""
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(len(args))
    answers, errors = [], []

    def attempt(arg):
        try:
            with demo.app_context():
                client = demo.test_client()
                barrier.wait(timeout=10)
                res = send(client, arg)
                answers.append((res.status_code, res.json or {}))
        except Exception as exc:  # noqa: BLE001  (surfaced by the assertion below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(arg,)) for arg in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return answers


def test_n_concurrent_resolves_have_exactly_one_winner(demo, login):
    client = demo.test_client()
    resident, grid = login("resident"), login("grid")
    tid = report(client, resident).json["id"]
    act(client, grid, tid, "accept")
    photos = [photo(client, grid) for _ in range(N)]
    statuses = [(code, body.get("message")) for code, body in _at_once(demo, lambda c, media_id: c.post(
        f"/api/v1/tickets/{tid}/resolve", json={"note": "已处理", "media": [media_id]}, headers=grid), photos)]
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
    statuses = [(code, body.get("message")) for code, body in _at_once(demo, lambda c, rating: c.post(
        f"/api/v1/tickets/{tid}/rate", json={"rating": rating}, headers=resident), ["satisfied", "dissatisfied"] * (N // 2))]
    assert sorted(s for s, _ in statuses).count(200) == 1, statuses
    assert all(s == 409 for s, _ in statuses if s != 200), statuses
    ratings = db.session.execute(sa.select(TicketRating).where(TicketRating.ticket_id == tid)).scalars().all()
    events = db.session.execute(sa.select(TicketEvent.action).where(
        TicketEvent.ticket_id == tid, TicketEvent.action.in_(["rate", "redo"]))).scalars().all()
    assert len(ratings) == 1 and len(events) == 1, (ratings, events)


def test_concurrent_retries_with_one_idempotency_key_make_one_ticket(demo, login):
    resident = login("resident")
    results = [(code, body.get("id")) for code, body in _at_once(
        demo, lambda c, _: report(c, resident, key="same-intent-0001"), range(N))]
    assert len(results) == N
    ids = {i for s, i in results if s in (200, 201)}
    assert len(ids) == 1, results
    assert all(s in (200, 201, 409) for s, _ in results), results
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 1


@pytest.mark.skipif(not MYSQL, reason="SQLite lets one writer in at a time: the retry cannot begin until the first ends")
def test_a_retry_while_the_first_attempt_is_open_waits_and_gets_its_ticket(demo, login):
    """The client gives up on a slow report and sends it again with the same key while the
    first is still in its transaction: the retry waits for it, then answers its ticket."""
    client = demo.test_client()
    resident = login("resident")
    uid = user_id(client, resident)
    body = {"category": "streetlight", "description": "路灯不亮了，晚上很黑", **IN_HQ_1_1}
    db.session.commit()
    db.session.remove()
    open_, release, first, second = threading.Event(), threading.Event(), {}, {}

    def first_attempt():
        with demo.app_context():
            actor = Actor.of_user(db.session.get(User, uid))
            ticket, created = reporting.report(actor, TicketCreateSchema().load(body), "slow-report-0001")
            first.update(id=ticket.id, created=created)
            open_.set()
            release.wait(timeout=20)
            db.session.commit()

    def retry():
        with demo.app_context():
            res = demo.test_client().post("/api/v1/tickets", json=body,
                                          headers={**resident, "Idempotency-Key": "slow-report-0001"})
            second.update(status=res.status_code, id=(res.json or {}).get("id"))

    threads = [threading.Thread(target=first_attempt)]
    threads[0].start()
    assert open_.wait(timeout=20)
    threads.append(threading.Thread(target=retry))
    threads[1].start()
    threads[1].join(timeout=1)
    assert threads[1].is_alive(), second  # waiting for the first attempt's key
    release.set()
    for t in threads:
        t.join(timeout=30)
    assert first["created"] and second == {"status": 200, "id": first["id"]}
    assert db.session.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() == 1


def test_the_same_first_login_sent_at_once_makes_one_account(demo):
    """A weak network sends a new resident's first login several times: every answer is a
    2xx, 409 or 429, never a 500, and one account exists."""
    answers = _at_once(demo, lambda c, _: c.post("/api/v1/auth/login", json={"code": "dev:first-login-race"}),
                       list(range(N)))
    assert all(code in (200, 409, 429) for code, _ in answers), answers
    assert any(code == 200 for code, _ in answers)
    assert db.session.execute(sa.select(sa.func.count()).select_from(User)
                              .where(User.openid == "dev:first-login-race")).scalar_one() == 1


def test_the_same_support_from_two_devices_counts_once(demo, login):
    client = demo.test_client()
    tid = report(client, login("resident")).json["id"]
    neighbour = login("support-race")
    answers = _at_once(demo, lambda c, _: c.post(f"/api/v1/tickets/{tid}/support", headers=neighbour), list(range(N)))
    assert all(code in (200, 409) for code, _ in answers), answers
    ticket = db.session.get(Ticket, tid)
    assert ticket.supporters == 1


def test_the_same_accept_from_two_devices_appends_one_event(demo, login):
    client = demo.test_client()
    tid = report(client, login("resident")).json["id"]
    grid = login("grid")
    answers = _at_once(demo, lambda c, _: c.post(f"/api/v1/tickets/{tid}/accept", json={}, headers=grid), list(range(N)))
    assert sorted(code for code, _ in answers).count(200) == 1, answers
    assert all(code in (200, 409) for code, _ in answers), answers
    assert db.session.execute(sa.select(sa.func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == tid, TicketEvent.action == "accept")).scalar_one() == 1


def test_the_same_subscription_taps_from_two_devices_add_up_in_one_row(demo, login):
    from server.notifications.models import SubscriptionQuota

    headers = login("subscription-race")
    answers = _at_once(demo, lambda c, _: c.post("/api/v1/me/subscriptions", json={"accepted": {"ticket_accepted": 1}},
                                                 headers=headers), list(range(N)))
    assert all(code in (200, 409) for code, _ in answers), answers
    rows = db.session.execute(sa.select(SubscriptionQuota.remaining).join(User, User.id == SubscriptionQuota.user_id)
                              .where(User.openid == "dev:subscription-race")).scalars().all()
    assert len(rows) == 1 and rows[0] == sum(1 for code, _ in answers if code == 200)


def test_one_photo_sent_with_concurrent_reports_is_taken_by_one(demo, login):
    """Two reports racing for one upload: one keeps the photo, the other is refused whole."""
    headers = login("photo-racer")
    with demo.test_client() as client:
        shared = photo(client, headers)
    answers = _at_once(demo, lambda client, n: report(client, headers, description=f"同一张照片 {n}", media=[shared]),
                       list(range(N)))
    assert sorted(status for status, _ in answers) == [201] + [422] * (N - 1)
    assert {body.get("message") for status, body in answers if status == 422} == {"invalid_media"}
    from server.media.models import Media

    taken = db.session.execute(sa.select(Media.attached_to).where(Media.id == shared)).scalar_one()
    winner = next(body["id"] for status, body in answers if status == 201)
    event = db.session.execute(sa.select(TicketEvent.id).where(TicketEvent.ticket_id == winner,
                                                               TicketEvent.action == "report")).scalar_one()
    assert taken == f"ticket_event:{event}"
