"""The read side of votes: the rules shown before anyone votes, the voter's own choice while
it is open, the frozen result after the close; the roll's claims for staff."""
from __future__ import annotations

import sqlalchemy as sa

from .. import directory
from ..auth.actor import Actor
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..units.locator import subtree_ids
from ..units.scope import staff_roles_in
from . import rules
from .models import RollEntry, RollStatus, Vote, Voter, VoteStatus
from .operations import entry_of, frozen_options, my_ballot, options_of


def get_vote(vote_id: int, actor: Actor | None) -> Vote:
    """A vote, to anyone once it is open; a draft only to its unit's staff (404 otherwise)."""
    vote = db.session.get(Vote, vote_id)
    unit = directory.unit(vote.unit_id) if vote is not None else None
    if vote is None or (vote.status == VoteStatus.draft and not (actor and unit and staff_roles_in(actor, unit))):
        raise NotFound("投票不存在", key="vote_not_found")
    return vote


def shown(vote: Vote, actor: Actor | None, cast_option: int | None = None) -> dict:
    """A vote as anyone reads it: rules, options, status; the actor's own ballot while open;
    the frozen result after the close (tallies are never shown before).

    `cast_option`: the option the actor's online ballot has just recorded, in this
    transaction, and `vote` the row the cast read; the answer to a cast says so without
    reading anything back (9 of 15 statements a cast request fewer, and its options from the
    process's copy; tests/api/test_votes.py compares it with a later GET)."""
    voted = None
    if cast_option is not None:
        voted = "online"
    elif actor is not None and vote.status != VoteStatus.draft:
        entry_id = entry_of(vote, actor)
        if entry_id is not None:
            voted = db.session.execute(sa.select(Voter.channel).where(Voter.vote_id == vote.id,
                                                                      Voter.entry_id == entry_id)).scalar()
    mine = cast_option if cast_option is not None else (
        my_ballot(vote, actor) if actor is not None and voted == "online" else None)
    return {
        "id": vote.id, "unit_id": vote.unit_id, "topic_id": vote.topic_id, "title": vote.title,
        "status": VoteStatus(vote.status).value, "status_label": rules.LABELS[VoteStatus(vote.status)],
        "by_household": vote.by_household, "opens_at": vote.opens_at, "closes_at": vote.closes_at,
        "quorum_pct": vote.quorum_pct, "threshold_pct": vote.threshold_pct, "roll_size": vote.roll_size,
        "options": [{"id": i, "label": label, "is_yes": yes} for i, label, yes in frozen_options(vote.id)]
        if vote.status != VoteStatus.draft else
        [{"id": o.id, "label": o.label, "is_yes": o.is_yes} for o in options_of(vote)],
        "voted": voted is not None, "channel": voted,
        "my_option": mine,
        "result": vote.result if vote.status == VoteStatus.closed else None,
    }


def result(vote: Vote) -> dict:
    """The frozen result: 403 before the close."""
    if vote.status != VoteStatus.closed:
        raise Forbidden("投票结束后才公布结果", key="results_hidden")
    return vote.result or {}


def claims(actor: Actor, unit_id: int, status: str = "claimed", limit: int = 100) -> list[RollEntry]:
    """Homes waiting for confirmation in the actor's units (grid workers, cadres)."""
    unit = directory.unit(unit_id)
    if unit is None or not (staff_roles_in(actor, unit) & rules.CLERKS):
        raise Forbidden("只有本单位的网格员或干部可以查看名册", key="forbidden")
    return db.session.execute(sa.select(RollEntry).where(
        RollEntry.unit_id.in_(subtree_ids([unit.path])), RollEntry.status == RollStatus(status))
        .order_by(RollEntry.id).limit(limit)).scalars().all()


def my_homes(actor: Actor) -> list[RollEntry]:
    return db.session.execute(sa.select(RollEntry).where(RollEntry.user_id == actor.id)
                              .order_by(RollEntry.id)).scalars().all()


def open_votes(unit_id: int) -> list[Vote]:
    unit = directory.unit(unit_id)
    if unit is None:
        raise NotFound("单位不存在", key="unit_not_found")
    return db.session.execute(sa.select(Vote).where(
        Vote.unit_id.in_(subtree_ids([unit.path])), Vote.status.in_([VoteStatus.open, VoteStatus.closed]))
        .order_by(Vote.id.desc()).limit(50)).scalars().all()
