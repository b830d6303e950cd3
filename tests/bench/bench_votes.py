"""Votes on MariaDB: casting against the INSERT ceiling, and tallying 100,000 ballots.

    .venv/bin/python tests/bench/bench_votes.py [--ballots 100000] [--casts 2000]

In a fresh database `gongzhi_bench_votes_<random>` (migrations, the demo district), dropped at
the end:

1. the INSERT ceiling: one plain INSERT and its COMMIT per iteration, on one connection,
   in-process, `--casts` times;
2. casting: `votes.operations.cast` and its COMMIT per iteration, by `--casts` different roll
   entries (a new ballot each: the vote row read under a shared lock, the entry locked, the
   voter and the ballot written), on the same kind of connection;
3. changing: each of them casts again, for another option (the ballot replaced);
4. the tally of `--ballots` ballots: the grouped count `close_vote` runs, then the whole close
   (count, freeze, re-key every ballot at random).

Both rates are single-threaded and in-process, so they compare the work a request does, not
the HTTP stack (the ceiling of docs/PERFORMANCE.md is measured under gunicorn).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from datetime import timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import pymysql  # noqa: E402
import sqlalchemy as sa  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--casts", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="profile the casts (cProfile, cumulative)")
    parser.add_argument("--admin-url", default=os.environ.get("MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/"))
    args = parser.parse_args()
    name = f"gongzhi_bench_votes_{secrets.token_hex(3)}"
    admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        run(args, f"mysql+pymysql://root@127.0.0.1:3306/{name}")
    finally:
        admin.cursor().execute(f"DROP DATABASE `{name}`")


def run(args, url: str) -> None:
    from flask_migrate import upgrade

    from server import create_app
    from server.auth.actor import Actor
    from server.auth.models import User
    from server.config import TestConfig
    from server.demo import seed_demo
    from server.extensions import db
    from server.timeutil import utcnow
    from server.units.models import Unit
    from server.votes import operations as ops
    from server.votes.models import Ballot, RollEntry, RollStatus, Vote, Voter, VoteRoll

    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        seed_demo()
        db.session.commit()
        compound = db.session.execute(sa.select(Unit).where(Unit.code == "gz-demo-hq-1-1")).scalar_one()
        cadre = Actor.of_user(db.session.execute(sa.select(User).where(User.openid == "dev:cadre")).scalar_one())
        people = args.casts
        conn = db.session.connection()
        conn.execute(sa.insert(User), [{"openid": f"bench:{i}", "nickname": "", "is_dev": True, "created_at": utcnow()}
                                       for i in range(people)])
        ids = db.session.execute(sa.select(User.id).where(User.openid.like("bench:%")).order_by(User.id)).scalars().all()
        conn.execute(sa.insert(RollEntry), [{"unit_id": compound.id, "user_id": uid, "household": f"h{uid}",
                                             "name": "", "status": RollStatus.confirmed.value, "version": 1,
                                             "created_at": utcnow()} for uid in ids])
        now = utcnow()
        vote = ops.create_vote(cadre, compound.id, "bench", ["同意", "不同意"], 0, now - timedelta(minutes=1),
                               now + timedelta(days=1))
        ops.open_vote(vote, cadre)
        db.session.commit()
        yes = ops.options_of(vote)[0].id
        actors = [Actor(uid, f"bench:{uid}", "", None, None, True, now, None, None, ()) for uid in ids]

        table = sa.table("bench_ceiling", sa.column("id"), sa.column("v"))
        db.session.execute(sa.text("CREATE TABLE bench_ceiling (id INT AUTO_INCREMENT PRIMARY KEY, v INT)"))
        db.session.commit()
        start = time.perf_counter()
        for i in range(people):
            db.session.execute(sa.insert(table).values(v=i))
            db.session.commit()
        ceiling = people / (time.perf_counter() - start)

        profile = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profile:
            profile.enable()
        vote_id = vote.id  # read once: the committed object would load itself again on each access
        for actor in actors:
            ops.cast(vote_id, actor, yes)
            db.session.commit()
        casting = people / (time.perf_counter() - start)
        if profile:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        no = ops.options_of(db.session.get(Vote, vote_id))[1].id
        start = time.perf_counter()
        for actor in actors:  # each voter changes their mind: the ballot is replaced
            ops.cast(vote_id, actor, no)
            db.session.commit()
        changing = people / (time.perf_counter() - start)

        # The tally: a second vote with args.ballots ballots written in bulk.
        big = ops.create_vote(cadre, compound.id, "bench-tally", ["同意", "不同意"], 0, now - timedelta(minutes=1),
                              now + timedelta(days=1))
        ops.open_vote(big, cadre)
        options = [o.id for o in ops.options_of(big)]
        db.session.commit()
        for chunk in range(0, args.ballots, 10_000):
            rows = range(chunk, min(chunk + 10_000, args.ballots))
            db.session.connection().execute(sa.insert(Ballot), [
                {"vote_id": big.id, "ref": secrets.token_hex(32), "option_id": options[i % 3 == 0]} for i in rows])
            db.session.commit()
        # A roll as large as the ballots (the rows themselves are not needed for the count).
        ops.MACHINE.operation(lambda: db.session.execute(
            sa.update(Vote).where(Vote.id == big.id).values(roll_size=args.ballots),
            execution_options={"synchronize_session": False}))()
        db.session.commit()
        start = time.perf_counter()
        counted = ops.counts(big.id)
        tally_s = time.perf_counter() - start
        big = db.session.get(Vote, big.id)
        start = time.perf_counter()
        ops.close_vote(big, cadre)
        db.session.commit()
        close_s = time.perf_counter() - start
        assert sum(counted.values()) == args.ballots
        voters = db.session.execute(sa.select(sa.func.count()).select_from(Voter).where(Voter.vote_id == vote.id)).scalar()
        rolls = db.session.execute(sa.select(sa.func.count()).select_from(VoteRoll).where(VoteRoll.vote_id == vote.id)).scalar()
        print(f"INSERT ceiling (in-process, one commit each): {ceiling:,.0f}/s")
        print(f"cast (in-process, one commit each): {casting:,.0f}/s = {100 * casting / ceiling:.0f}% of the ceiling "
              f"({voters:,} voters of {rolls:,} on the roll)")
        print(f"cast again, replacing the ballot: {changing:,.0f}/s = {100 * changing / ceiling:.0f}% of the ceiling")
        print(f"tally of {args.ballots:,} ballots (the grouped count): {tally_s * 1000:.0f} ms")
        print(f"close with {args.ballots:,} ballots (count, freeze, re-key every ballot): {close_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
