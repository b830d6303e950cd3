"""Each ticket operation called directly (no HTTP): what it changes, the event it appends,
what it refuses. Beside the API tests, which go through the views."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.auth.actor import Actor
from server.auth.models import User
from server.errors import Conflict, Forbidden, Invalid
from server.extensions import db
from server.media.models import Media
from server.privacy.consent import current_policy, record_consent
from server.stats import queries as stats
from server.tickets import operations as ops
from server.tickets import reporting, timers
from server.tickets.lifecycle import Status
from server.tickets.models import Ticket, TicketEvent, TicketRating
from server.timeutil import utcnow
from server.workflow import AppendOnlyViolation, OutsideOperation
from tests.api.helpers import IN_HQ_1_1

PLACE = {"category": "streetlight", "description": "路灯不亮了", "coord": "wgs84", **IN_HQ_1_1}


@pytest.fixture
def people(demo):
    users = {u.openid.removeprefix("dev:"): u for u in db.session.execute(sa.select(User)).scalars()}
    record_consent(users["resident"], current_policy())
    db.session.flush()
    return {name: Actor.of_user(user) for name, user in users.items()}


def _events(ticket) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        sa.select(TicketEvent.action, TicketEvent.from_status, TicketEvent.to_status, TicketEvent.actor_role)
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))]


def _photo(actor) -> list[int]:
    item = Media(owner_id=actor.id, key=f"k{actor.id}-{utcnow().timestamp()}", thumb_key="t", content_type="image/jpeg",
                 width=1, height=1, size=1, sha256="0" * 64)
    db.session.add(item)
    db.session.flush()
    return [item.id]


def _report(people, **extra):
    ticket, created = reporting.report(people["resident"], {**PLACE, **extra})
    assert created
    return ticket


def test_report_routes_and_appends_the_first_event(people):
    ticket = _report(people)
    assert ticket.status == Status.submitted and ticket.unit.code == "gz-demo-hq-1"
    assert _events(ticket) == [("report", None, Status.submitted, "reporter")]


def test_report_needs_a_sentence_or_a_photo(people):
    with pytest.raises(Invalid) as err:
        reporting.report(people["resident"], {**PLACE, "description": "  "})
    assert err.value.key == "description_required"
    ticket, _ = reporting.report(people["resident"], {**PLACE, "description": "", "media": _photo(people["resident"])})
    assert ticket.description == ""


def test_report_with_an_idempotency_key_is_one_ticket(people):
    first, created = reporting.report(people["resident"], PLACE, "key-000000001")
    again, created_again = reporting.report(people["resident"], PLACE, "key-000000001")
    assert created and not created_again and again.id == first.id
    with pytest.raises(Invalid) as err:
        reporting.report(people["resident"], {**PLACE, "description": "别的内容"}, "key-000000001")
    assert err.value.key == "idempotency_key_reused"


def test_accept_then_assign_progress_resolve_rate(people):
    ticket = _report(people)
    ops.accept(ticket, people["grid"])
    ops.assign(ticket, people["cadre"], assignee_id=people["grid"].id, due_at=utcnow() + timedelta(days=2))
    ops.progress(ticket, people["grid"], "在修")
    ops.resolve(ticket, people["grid"], "修好了", _photo(people["grid"]))
    ops.rate(ticket, people["resident"], "satisfied")
    assert ticket.status == Status.closed and ticket.rating == "satisfied"
    assert [e[0] for e in _events(ticket)] == ["report", "accept", "assign", "progress", "resolve", "rate"]
    assert db.session.execute(sa.select(sa.func.count()).select_from(TicketRating)).scalar_one() == 1


def test_a_first_dissatisfied_rating_reopens_once(people):
    ticket = _report(people)
    ops.accept(ticket, people["grid"])
    ops.resolve(ticket, people["grid"], "修好了", _photo(people["grid"]))
    ops.rate(ticket, people["resident"], "dissatisfied")
    assert ticket.status == Status.assigned and ticket.redo_count == 1
    assert _events(ticket)[-1] == ("redo", Status.resolved, Status.assigned, "reporter")


def test_return_transfer_withdraw_propose(people):
    returned = _report(people)
    ops.return_(returned, people["grid"], "needs_info", "请补充位置")
    assert returned.status == Status.returned and returned.return_reason == "needs_info"
    moved = _report(people)
    target = db.session.execute(sa.text("SELECT id FROM units WHERE code = 'gz-demo-hq-2'")).scalar()
    ops.transfer(moved, people["grid"], target, "属桃源社区")
    assert moved.unit_id == target and _events(moved)[-1][0] == "transfer"
    gone = _report(people)
    ops.withdraw(gone, people["resident"])
    assert gone.status == Status.withdrawn
    topic = _report(people)
    ops.accept(topic, people["grid"])
    ops.propose(topic, people["deputy"], "请代表议一议")
    assert topic.status == Status.deliberating


def test_wrong_state_is_409_and_wrong_role_403(people):
    ticket = _report(people)
    with pytest.raises(Conflict) as err:
        ops.resolve(ticket, people["grid"], "修好了", [])
    assert err.value.key == "invalid_transition"
    with pytest.raises(Forbidden):
        ops.accept(ticket, people["resident"])
    with pytest.raises(Conflict) as stale:
        ops.accept(ticket, people["grid"], version=ticket.version + 1)
    assert stale.value.key == "conflict"


def test_support_counts_once(people, login):
    ticket = _report(people)
    neighbour = Actor.of_user(db.session.execute(sa.select(User).where(User.openid == "dev:cadre")).scalar_one())
    assert ops.support(ticket, neighbour) == 1
    assert ops.support(ticket, neighbour) == 1
    assert ops.support(ticket, people["resident"]) == 1  # the reporter's own does not count


def test_a_duplicate_must_point_at_a_public_ticket(people):
    held = _report(people)
    ops_force_held(held)
    dup = _report(people)
    with pytest.raises(Invalid) as err:
        ops.return_(dup, people["grid"], "duplicate", duplicate_of=held.id)
    assert err.value.key == "invalid_duplicate"
    public = _report(people)
    ops.return_(dup, people["grid"], "duplicate", duplicate_of=public.id)
    assert dup.duplicate_of_id == public.id and _events(public)[-1][0] == "merge"


def ops_force_held(ticket):
    from tests.state import force_ticket

    force_ticket(ticket.id, held=True)


def test_approve_makes_a_held_report_public_and_starts_its_clocks(people):
    ticket = _report(people)
    ops_force_held(ticket)
    first_due = ticket.respond_by
    ops.approve(ticket, people["grid"], "没问题")
    assert not ticket.held and ticket.respond_by >= first_due
    assert _events(ticket)[-1] == ("approve", Status.submitted, Status.submitted, "grid_worker")
    with pytest.raises(Conflict) as err:
        ops.approve(ticket, people["grid"])
    assert err.value.key == "not_held"


def test_a_hidden_report_is_returned_never_escalated_nor_counted(people):
    ticket = _report(people)
    ops_force_held(ticket)
    ops.hide(ticket, people["grid"], "广告")
    assert ticket.status == Status.returned and ticket.hidden and ticket.return_reason == "invalid"
    later = utcnow() + timedelta(days=30)
    assert timers.sweep(now=later)["escalated"] == 0
    with pytest.raises(Conflict):
        timers.escalate(ticket)
    card = stats.unit_card(ticket.unit_id, utcnow().strftime("%Y-%m"), now=later)
    assert card["received"] == 0


def test_a_held_report_waits_and_is_not_escalated(people):
    ticket = _report(people)
    ops_force_held(ticket)
    assert timers.sweep(now=utcnow() + timedelta(days=30))["escalated"] == 0
    assert not ticket.overdue


def test_sweep_escalates_closes_unrated_and_erases_with_events(people):
    late = _report(people)
    timers.sweep(now=utcnow() + timedelta(days=2))
    assert late.overdue and _events(late)[-1] == ("escalate", Status.submitted, Status.submitted, "system")
    unrated = _report(people)
    ops.accept(unrated, people["grid"])
    ops.resolve(unrated, people["grid"], "修好了", _photo(people["grid"]))
    timers.sweep(now=utcnow() + timedelta(days=8))
    assert unrated.status == Status.closed and _events(unrated)[-1][0] == "close"
    timers.sweep(now=utcnow() + timedelta(days=400))
    assert unrated.reporter_id is None and unrated.anonymous and unrated.personal_data_erased_at is not None
    assert _events(unrated)[-1] == ("erase", Status.closed, Status.closed, "system")


def test_anonymise_reports_of_a_deleted_account(people):
    ticket = _report(people)
    assert ops.anonymise_reports(people["resident"].id) == 1
    assert ticket.anonymous and _events(ticket)[-1][0] == "anonymise"


# --- the fences -----------------------------------------------------------------------------


def test_a_ticket_column_written_outside_an_operation_is_refused(people):
    ticket = _report(people)
    with pytest.raises(OutsideOperation):
        ticket.status = Status.closed
    with pytest.raises(OutsideOperation):
        ticket.overdue = True
    with pytest.raises(OutsideOperation):
        db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id).values(supporters=99))


def test_history_rows_are_never_updated_or_deleted(people):
    ticket = _report(people)
    db.session.commit()
    event = db.session.execute(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).scalar_one()
    event.note = "改写历史"
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
    db.session.rollback()
    for statement in (sa.update(TicketEvent.__table__).values(note="x"), sa.delete(TicketEvent.__table__),
                      sa.update(TicketRating).values(comment="x")):
        with pytest.raises(AppendOnlyViolation):
            db.session.connection().execute(statement)
        db.session.rollback()
    event = db.session.execute(sa.select(TicketEvent)).scalars().first()
    db.session.delete(event)
    with pytest.raises(AppendOnlyViolation):
        db.session.flush()
