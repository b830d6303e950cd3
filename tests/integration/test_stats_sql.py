"""The report card against a real database (SQLite; MariaDB with tests/run_on_mysql.py):
hand-computed numbers, period edges, roll-up, ranking, snapshots and their immutability."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.auth.models import User
from server.errors import Invalid
from server.extensions import db
from server.notifications.models import Notification
from server.stats import operations, queries
from server.stats.models import ReportSnapshot, ReportSnapshotUnit
from server.units.models import Unit
from tests.integration.test_stats_fixtures import AS_OF, HQ1_OCTOBER, HQ_OCTOBER, add_ticket, at, build_october


def unit_id(code):
    return db.session.execute(sa.select(Unit.id).where(Unit.code == code)).scalar_one()


def card(code, period="2026-10", category=None):
    return queries.unit_card(unit_id(code), period, category, now=AS_OF)


def subset(found: dict, expected: dict) -> dict:
    return {key: found[key] for key in expected}


def assert_numbers(found: dict, **expected):
    assert subset(found, expected) == expected


@pytest.fixture
def october(demo):
    build_october()
    db.session.commit()
    return demo


def test_a_community_over_its_subtree(october):
    found = card("gz-demo-hq-1")
    assert subset(found, HQ1_OCTOBER) == HQ1_OCTOBER
    assert found["unit"]["code"] == "gz-demo-hq-1" and found["period"] == "2026-10"
    assert found["rank"] == 2 and found["ranked_among"] == 2  # behind 桃源社区's perfect five
    assert found["starts_at"] == "2026-09-30T16:00:00+00:00" and found["ends_at"] == "2026-10-31T16:00:00+00:00"


def test_a_street_rolls_up_its_communities_and_transfers_count_where_they_are_now(october):
    hq = card("gz-demo-hq")
    assert subset(hq, HQ_OCTOBER) == HQ_OCTOBER
    taoyuan = card("gz-demo-hq-2")  # t11 and t12 left it by transfer: they count for 花桥社区
    assert (taoyuan["received"], taoyuan["score"], taoyuan["rank"]) == (5, 1.0, 1)
    assert card("gz-demo")["received"] == 22


def test_compounds_below_the_minimum_are_shown_not_ranked(october):
    compound = card("gz-demo-hq-1-1")  # t7 (1 h, 24 h) and t8 (1 h, 48 h)
    assert compound["received"] == 2 and compound["ranked"] is False and compound["rank"] is None
    assert compound["resolution_rate"] == 1.0 and compound["unrated"] == 2 and compound["satisfaction_rate"] is None
    assert compound["median_resolution_hours"] == 36.0  # an even count: the mean of the two middle values
    assert compound["avg_response_hours"] == 1.0


def test_one_lucky_fix_cannot_top_the_list(october):
    streets = queries.ranking(unit_id("gz-demo"), "2026-10", now=AS_OF)["items"]
    assert [(i["unit"]["code"], i["rank"], i["ranked"]) for i in streets] == [
        ("gz-demo-hq", 1, True), ("gz-demo-my", None, False)]
    lucky = streets[1]
    assert (lucky["received"], lucky["response_rate"], lucky["resolution_rate"], lucky["satisfaction_rate"]) == \
        (1, 1.0, 1.0, 1.0)
    communities = queries.ranking(unit_id("gz-demo-hq"), "2026-10", now=AS_OF)["items"]
    assert [(i["unit"]["code"], i["rank"], i["score"]) for i in communities] == [
        ("gz-demo-hq-2", 1, 1.0), ("gz-demo-hq-1", 2, 0.7341)]


@pytest.mark.parametrize("period, received", [
    ("2026-09", 1),            # t17, 23:59:59.999999 on 30 September Beijing time
    ("2026-11", 1),            # t15, 00:30 on 1 November Beijing time (still October in UTC)
    ("2026-09..2026-10", 17),
    ("2026-09..2026-11", 18),
    ("2026-12", 0),
])
def test_months_are_shanghai_months(october, period, received):
    assert card("gz-demo-hq-1", period)["received"] == received


def test_nothing_received_gives_null_rates(october):
    empty = card("gz-demo-hq-1", "2026-12")
    assert (empty["response_rate"], empty["resolution_rate"], empty["satisfaction_rate"], empty["score"]) == \
        (None, None, None, None)
    assert empty["median_response_hours"] is None and empty["ranked"] is False


def test_by_category_and_category_filter(october):
    hazard = card("gz-demo-hq-1", category="safety_hazard")  # t18 alone: 2 h for a 1 h limit, 3 h for 2 h
    assert_numbers(hazard, received=1, response_rate=0.0, resolution_rate=1.0, on_time_resolution_rate=0.0,
                   satisfaction_rate=1.0, overdue=1, ranked=False, median_resolution_hours=3.0)
    split = queries.category_cards(unit_id("gz-demo-hq-1"), "2026-10", now=AS_OF)["items"]
    assert [(i["category"]["code"], i["received"]) for i in split] == [("streetlight", 15), ("safety_hazard", 1)]
    lights = split[0]
    assert (lights["responded_in_time"], lights["resolved"], lights["overdue"]) == (10, 8, 6)
    assert lights["median_resolution_hours"] == 72.0


def test_overdue_depends_on_when_it_is_counted(october):
    early = queries.unit_card(unit_id("gz-demo-hq-1"), "2026-10", now=at(10, 21, 12))
    # By noon on 21 October: t2, t10, t11 answered late or not at all, t16 resolved 1 µs late,
    # t18 late; t6's redo (due 22 October) and t13 (due 22 October) not late yet.
    assert early["overdue"] == 5


def test_the_operations_leave_what_the_card_counts(demo, monkeypatch):
    """A late transfer is a late response even though it resets respond_by; a redo's rating replaces the first."""
    from server.auth.actor import Actor
    from server.media.models import Media
    from server.tickets import operations as ops
    from server.tickets import reporting

    clock = {"now": at(10, 5, 1)}
    monkeypatch.setattr(ops, "utcnow", lambda: clock["now"])
    monkeypatch.setattr(reporting, "utcnow", lambda: clock["now"])
    users = {u.openid: Actor.of_user(u) for u in db.session.execute(sa.select(User)).scalars()}
    resident, grid, admin = users["dev:resident"], users["dev:grid"], users["dev:admin"]

    def photo(owner):
        m = Media(owner_id=owner.id, key="k", thumb_key="t", content_type="image/jpeg", width=1, height=1, size=1,
                  sha256="0" * 64)
        db.session.add(m)
        db.session.flush()
        return [m.id]

    from server.privacy.consent import current_policy, record_consent

    record_consent(resident, current_policy())
    place = {"category": "streetlight", "description": "路灯不亮", "lat": 30.57, "lng": 114.27, "coord": "wgs84"}
    late, _ = reporting.report(resident, place)
    redo, _ = reporting.report(resident, place)
    clock["now"] += timedelta(hours=1)
    ops.accept(redo, grid)
    ops.resolve(redo, grid, "修好了", photo(grid))
    clock["now"] += timedelta(hours=30)
    ops.transfer(late, admin, unit_id("gz-demo-hq-2"), "属桃源社区")
    assert late.respond_by > late.responded_at  # the reset that must not hide the lateness
    ops.rate(redo, resident, "dissatisfied")
    assert card("gz-demo-hq-1")["dissatisfied"] == 1  # the first rating stands while the redo is open
    clock["now"] += timedelta(hours=2)
    ops.resolve(redo, admin, "重新修好了", photo(admin))  # a redo goes back to assigned: a handler answers
    ops.rate(redo, resident, "basically_satisfied")
    db.session.commit()

    taoyuan, huaqiao = card("gz-demo-hq-2"), card("gz-demo-hq-1")
    assert_numbers(taoyuan, received=1, responded_in_time=0, response_rate=0.0, overdue=1)
    assert_numbers(huaqiao, received=1, responded_in_time=1, resolved=1, redo=1, dissatisfied=0,
                   basically_satisfied=1, satisfaction_rate=1.0, avg_resolution_hours=33.0)


# --- snapshots -------------------------------------------------------------------------------


def test_monthly_snapshot_freezes_the_live_numbers(october):
    snapshot, created, _ = operations.monthly("2026-10", now=AS_OF)
    db.session.commit()
    assert created and snapshot.kind == "monthly" and snapshot.title == "2026年10月接诉即办月度督查"
    rows = {r.unit_code: r for r in snapshot.rows}
    assert len(rows) == db.session.execute(sa.select(sa.func.count()).select_from(Unit)).scalar_one()
    for code, row in rows.items():
        live = card(code)
        frozen = operations.unit_entry(row, snapshot.min_tickets, snapshot.weights)
        keys = dict.fromkeys([*HQ1_OCTOBER, "rank"])
        assert subset(frozen, keys) == subset(live, keys), code
    assert (rows["gz-demo-hq-1"].rank, rows["gz-demo-hq-2"].rank, rows["gz-demo-my"].rank) == (2, 1, None)

    again, created_again, notified = operations.monthly("2026-10", now=AS_OF + timedelta(days=3))
    assert again.id == snapshot.id and not created_again and notified == 0


def test_the_frozen_categories_are_the_live_ones_of_the_month(october):
    """The dashboard's categories (summed from frozen monthly rows) against the live count of
    the same month: the same tickets, the same figures, for every unit (medians aside: the
    frozen rows keep counters only)."""
    from server.stats.models import ReportSnapshotCategory
    from server.stats.periods import parse_month

    snapshot, _, _ = operations.monthly("2026-10", now=AS_OF)
    db.session.commit()
    october = [parse_month("2026-10")]
    for code in ("gz-demo", "gz-demo-hq", "gz-demo-hq-1", "gz-demo-hq-2", "gz-demo-my"):
        live = queries.category_cards(unit_id(code), "2026-10", now=AS_OF)["items"]
        frozen = queries.frozen_categories(unit_id(code), october)
        assert [i["category"]["code"] for i in frozen] == [i["category"]["code"] for i in live], code
        for a, b in zip(frozen, live):
            keys = dict.fromkeys(["received", "responded_in_time", "resolved", "overdue", "resolution_rate",
                                  "satisfaction_rate", "response_rate"])
            assert subset(a, keys) == subset(b, keys), code
    assert queries.frozen_categories(unit_id("gz-demo"), [parse_month("2026-09")]) == []  # not frozen: nothing
    row = db.session.execute(sa.select(ReportSnapshotCategory).where(
        ReportSnapshotCategory.snapshot_id == snapshot.id)).scalars().first()
    row.counters = {}
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()


def test_published_snapshots_cannot_change(october):
    snapshot, _, _ = operations.monthly("2026-10", now=AS_OF)
    db.session.commit()
    row = snapshot.rows[0]
    row.received = 999
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    snapshot = db.session.get(ReportSnapshot, snapshot.id)
    snapshot.title = "改过的"
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ReportSnapshot, snapshot.id))
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.execute(sa.update(ReportSnapshotUnit).values(received=0))
    with pytest.raises(RuntimeError, match="immutable"):
        db.session.execute(sa.delete(ReportSnapshot))
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.sum(ReportSnapshotUnit.received)).where(
        ReportSnapshotUnit.snapshot_id == snapshot.id, ReportSnapshotUnit.unit_code == "gz-demo")).scalar_one() == 22


def test_later_changes_do_not_touch_a_published_month(october):
    snapshot, _, _ = operations.monthly("2026-10", now=AS_OF)
    db.session.commit()
    add_ticket("gz-demo-hq-1", at(10, 25, 2))  # arrives late through some import
    db.session.commit()
    assert card("gz-demo-hq-1")["received"] == 17
    frozen = db.session.execute(sa.select(ReportSnapshotUnit.received).where(
        ReportSnapshotUnit.snapshot_id == snapshot.id, ReportSnapshotUnit.unit_code == "gz-demo-hq-1")).scalar_one()
    assert frozen == 16


@pytest.mark.parametrize("month", ["2026-11", "2027-01"])
def test_a_month_not_over_cannot_be_frozen(october, month):
    with pytest.raises(Invalid) as err:
        operations.monthly(month, now=AS_OF)
    assert err.value.key == "period_not_over"


def test_the_default_month_is_the_last_full_one(october):
    snapshot, created, _ = operations.monthly(None, now=at(11, 1, 1))  # 09:00 on 1 November in Shanghai
    assert snapshot.period == "2026-10"
    snapshot, created, _ = operations.monthly(None, now=at(10, 31, 15))  # 23:00 on 31 October in Shanghai
    assert snapshot.period == "2026-09"


def test_unit_heads_hear_of_their_overdue_and_dissatisfied(october):
    snapshot, _, notified = operations.monthly("2026-10", now=AS_OF)
    db.session.commit()
    head = db.session.execute(sa.select(User).where(User.openid == "dev:head")).scalar_one()
    rows = db.session.execute(sa.select(Notification).where(Notification.template == "monthly_supervision")).scalars().all()
    assert notified == 1 and [r.user_id for r in rows] == [head.id]
    message = rows[0]
    assert message.dedupe_key == f"monthly:2026-10:{unit_id('gz-demo-hq')}:{head.id}"
    assert message.title == "2026年10月月度督查：花桥街道"
    assert "超时7件" in message.body and "不满意1件" in message.body and "受理群众反映21件" in message.body
    assert (message.data["overdue"], message.data["dissatisfied"], message.data["unit"]) == (7, 1, "花桥街道")
    operations.notify_heads(snapshot)  # a second run adds nothing
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.template == "monthly_supervision")).scalar_one() == 1


def test_a_bulletin_over_two_months(october):
    bulletin, created = operations.bulletin("2026-09..2026-10", now=AS_OF)
    db.session.commit()
    assert created and bulletin.title == "2026年9月至10月接诉即办成绩单通报"
    detail = operations.bulletin_detail(bulletin.id)
    units = detail["units"]
    assert [u["unit"]["code"] for u in units[:3]] == ["gz-demo", "gz-demo-hq", "gz-demo-my"]
    hq1 = next(u for u in units if u["unit"]["code"] == "gz-demo-hq-1")
    assert hq1["received"] == 17 and hq1["rank"] == 2
    communities = operations.bulletin_detail(bulletin.id, parent_id=unit_id("gz-demo-hq"))["units"]
    assert [(u["unit"]["code"], u["rank"]) for u in communities] == [("gz-demo-hq-2", 1), ("gz-demo-hq-1", 2)]
    with pytest.raises(Invalid):
        operations.bulletin("2026-10..2026-09", now=AS_OF)


def test_roomy_session_gives_back_the_server_settings(ctx):
    if db.engine.dialect.name != "mysql":
        pytest.skip("MySQL session variables")
    read = lambda: db.session.execute(sa.text("SELECT @@SESSION.tmp_table_size, @@SESSION.sort_buffer_size")).one()  # noqa: E731
    before = tuple(read())
    with queries.roomy_session():
        assert read()[0] == 256 * 2**20 and read()[1] == 32 * 2**20
    assert tuple(read()) == before
