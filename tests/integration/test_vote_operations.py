"""Votes, operation by operation, on SQLite and MariaDB: the roll frozen at opening, one
recorded vote per roll entry whatever the races, the last choice counts, paper and online
exclusive, and after the close no stored data that joins a ballot to a person."""
import hashlib
import hmac
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.auth.actor import Actor
from server.auth.models import User
from server.errors import Conflict, Forbidden
from server.extensions import db
from server.timeutil import utcnow
from server.units.models import Unit
from server.votes import operations as ops
from server.votes import queries
from server.votes.models import Ballot, Vote, Voter, VoteStatus

N = 20


def _unit(code):
    return db.session.execute(sa.select(Unit).where(Unit.code == code)).scalar_one()


def _actor(name):
    user = db.session.execute(sa.select(User).where(User.openid == f"dev:{name}")).scalar_one_or_none()
    if user is None:
        user = User(openid=f"dev:{name}", nickname=name, is_dev=True)
        db.session.add(user)
        db.session.flush()
    return Actor.of_user(user)


@pytest.fixture
def town(demo):
    """Five residents with confirmed homes in 花桥社区一区, and an open vote of 花桥社区."""
    compound, community = _unit("gz-demo-hq-1-1"), _unit("gz-demo-hq-1")
    grid, cadre = _actor("grid"), _actor("cadre")
    residents = [_actor(f"voter-{i}") for i in range(5)]
    for i, person in enumerate(residents):
        entry = ops.claim_home(person, compound.id, household=f"1栋{i // 2 + 1}01", name=person.nickname)
        ops.review_home(entry, grid, confirm=True)
    now = utcnow()
    vote = ops.create_vote(cadre, community.id, "加装电梯", ["同意", "不同意"], 0, now - timedelta(minutes=1),
                           now + timedelta(days=3))
    ops.open_vote(vote, cadre)
    db.session.commit()
    return {"vote": vote, "residents": residents, "cadre": cadre, "grid": grid, "community": community}


def _options(vote):
    return [o.id for o in ops.options_of(vote)]


def test_the_roll_is_frozen_when_voting_opens(town):
    vote = town["vote"]
    assert vote.status == VoteStatus.open and vote.roll_size == 5 and vote.secret
    late = _actor("voter-late")
    entry = ops.claim_home(late, _unit("gz-demo-hq-1-1").id, household="2栋101")
    ops.review_home(entry, town["grid"], confirm=True)
    with pytest.raises(Forbidden) as err:
        ops.cast(vote.id, late, _options(vote)[0])
    assert err.value.key == "not_on_roll"


def test_a_voter_may_change_until_the_close_and_the_last_counts(town):
    vote, (a, b, *_) = town["vote"], town["residents"]
    yes, no = _options(vote)
    ops.cast(vote.id, a, yes)
    ops.cast(vote.id, a, no)
    ops.cast(vote.id, b, yes)
    assert queries.shown(vote, a)["my_option"] == no
    assert ops.counts(vote.id) == {yes: 1, no: 1}
    voters = db.session.execute(sa.select(sa.func.count()).select_from(Voter).where(Voter.vote_id == vote.id)).scalar()
    assert voters == 2 == sum(ops.counts(vote.id).values())


def test_results_are_hidden_until_the_close_then_frozen(town):
    vote = town["vote"]
    ops.cast(vote.id, town["residents"][0], _options(vote)[0])
    with pytest.raises(Forbidden) as err:
        queries.result(vote)
    assert err.value.key == "results_hidden"
    assert queries.shown(vote, None)["result"] is None
    ops.close_vote(vote, town["cadre"])
    result = queries.result(vote)
    assert result["ballots"] == 1 and result["counts"] is None  # under five ballots: passed or not only
    assert result["quorum_met"] is False and result["passed"] is False


def test_casting_outside_the_window_is_refused(town):
    vote = town["vote"]
    ops.close_vote(vote, town["cadre"])
    with pytest.raises(Conflict) as err:
        ops.cast(vote.id, town["residents"][0], _options(vote)[0])
    assert err.value.key == "vote_not_open"


def test_paper_and_online_exclude_each_other(town):
    vote, (a, b, *_) = town["vote"], town["residents"]
    yes, no = _options(vote)
    ops.cast(vote.id, a, yes)
    entry_a = ops._entry_for(vote, a)
    with pytest.raises(Conflict):
        ops.enter_paper(vote.id, town["grid"], entry_a, no)
    ops.enter_paper(vote.id, town["grid"], ops._entry_for(vote, b), no)
    with pytest.raises(Conflict) as err:
        ops.cast(vote.id, b, yes)
    assert err.value.key == "already_voted"
    assert ops.counts(vote.id) == {yes: 1, no: 1}


def test_after_the_close_no_stored_data_joins_a_ballot_to_a_person(town):
    vote, people = town["vote"], town["residents"]
    yes, no = _options(vote)
    for i, person in enumerate(people):
        ops.cast(vote.id, person, yes if i % 2 == 0 else no)
    secret = bytes.fromhex(vote.secret)
    entries = [ops._entry_for(vote, p) for p in people]
    before = {hmac.new(secret, f"{vote.id}:{e}".encode(), hashlib.sha256).hexdigest() for e in entries}
    refs_open = set(db.session.execute(sa.select(Ballot.ref).where(Ballot.vote_id == vote.id)).scalars())
    assert refs_open == before  # while open, a voter's entry finds its ballot
    ops.close_vote(vote, town["cadre"])
    db.session.commit()
    stored = db.session.get(Vote, vote.id)
    assert stored.secret is None and stored.result["counts"] == {str(yes): 3, str(no): 2}
    rows = db.session.execute(sa.text("SELECT * FROM ballots WHERE vote_id = :v"), {"v": vote.id}).mappings().all()
    assert len(rows) == 5 and set(rows[0].keys()) == {"vote_id", "ref", "option_id"}  # no time, no entry, no user
    assert not {r["ref"] for r in rows} & before  # the old references are gone
    assert len({r["ref"] for r in rows}) == 5
    voter_columns = set(db.session.execute(sa.text("SELECT * FROM voters WHERE vote_id = :v"), {"v": vote.id})
                        .mappings().first().keys())
    assert voter_columns == {"vote_id", "entry_id", "channel", "user_id", "recorded_by"}  # who, never what or when
    if db.engine.dialect.name == "sqlite":  # no insertion order to pair the two tables by
        for table in ("ballots", "voters"):
            with pytest.raises(sa.exc.OperationalError):
                db.session.execute(sa.text(f"SELECT rowid FROM {table}"))
            db.session.rollback()


def test_twenty_concurrent_casts_by_one_entry_record_one_vote(town, demo):
    vote_id, person = town["vote"].id, town["residents"][0]
    yes, no = _options(town["vote"])
    db.session.commit()
    db.session.remove()
    barrier, errors = threading.Barrier(N), []

    def attempt(i):
        try:
            with demo.app_context():
                barrier.wait(timeout=10)
                try:
                    ops.cast(vote_id, person, yes if i % 2 else no)
                    db.session.commit()
                except Conflict:
                    db.session.rollback()
        except Exception as exc:  # noqa: BLE001  (surfaced below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    voters = db.session.execute(sa.select(sa.func.count()).select_from(Voter).where(Voter.vote_id == vote_id)).scalar()
    assert voters == 1 and sum(ops.counts(vote_id).values()) == 1


def test_by_household_one_vote_per_household(demo):
    compound, community = _unit("gz-demo-hq-1-1"), _unit("gz-demo-hq-1")
    grid, cadre = _actor("grid"), _actor("cadre")
    wife, husband, neighbour = _actor("hh-wife"), _actor("hh-husband"), _actor("hh-neighbour")
    for person, household in ((wife, "3栋101"), (husband, "3栋101"), (neighbour, "3栋102")):
        ops.review_home(ops.claim_home(person, compound.id, household), grid, confirm=True)
    now = utcnow()
    vote = ops.create_vote(cadre, community.id, "小区停车", ["同意", "不同意"], 0, now - timedelta(minutes=1),
                           now + timedelta(days=1), by_household=True)
    ops.open_vote(vote, cadre)
    assert vote.roll_size == 2
    yes, no = _options(vote)
    ops.cast(vote.id, wife, yes)
    ops.cast(vote.id, husband, no)  # the same household: replaces, the last counts
    ops.cast(vote.id, neighbour, yes)
    assert ops.counts(vote.id) == {yes: 1, no: 1}


def test_an_import_of_households_is_all_or_nothing(demo):
    from server.errors import Invalid

    admin, compound = _actor("admin"), _unit("gz-demo-hq-1-1")
    with pytest.raises(Invalid):
        ops.import_households(admin, compound.id, [{"household": "1栋101"}, {"household": "1栋101"}])
    assert ops.import_households(admin, compound.id, [{"household": "1栋101"}, {"household": "1栋102"}]) == 2
    assert ops.import_households(admin, compound.id, [{"household": "1栋101"}]) == 0  # already there
    with pytest.raises(Forbidden):
        ops.import_households(_actor("grid"), compound.id, [{"household": "9栋9"}])
