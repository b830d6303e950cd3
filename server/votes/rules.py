"""A vote's states and the rules of counting it. Pure: no Flask, no session."""
from __future__ import annotations

from fractions import Fraction

from ..workflow import SYSTEM, Machine, Rule
from .models import VoteStatus

V = VoteStatus
LABELS = {V.draft: "草稿", V.open: "投票中", V.closed: "已结束", V.cancelled: "已取消"}
ORGANISERS = frozenset({"cadre", "unit_head", "admin"})
CLERKS = frozenset({"grid_worker", "cadre", "unit_head", "admin"})  # enter paper ballots, confirm homes

MIN_OPTIONS, MAX_OPTIONS = 2, 10
SMALL_VOTE = 5  # below this many ballots only passed / not passed is published


def _has_options(vote) -> str | None:
    return None if len(vote.options) >= MIN_OPTIONS and sum(o.is_yes for o in vote.options) == 1 else \
        "至少两个选项，且只有一个“同意”选项"


TRANSITIONS = {
    ("open", V.draft): Rule(V.open, ORGANISERS | {SYSTEM}, _has_options),
    ("close", V.open): Rule(V.closed, ORGANISERS | {SYSTEM}),
    ("cancel", V.draft): Rule(V.cancelled, ORGANISERS),
    ("cancel", V.open): Rule(V.cancelled, ORGANISERS),
}
MACHINE = Machine("vote", TRANSITIONS, LABELS)


def tally(counts: dict[int, int], yes_option: int, roll_size: int, quorum_pct: int, threshold_pct: int) -> dict:
    """The frozen result: ballots, turnout, whether the quorum was met and the motion passed,
    and the counts (hidden below SMALL_VOTE ballots, where a count could tell who voted how)."""
    ballots = sum(counts.values())
    quorum_met = roll_size > 0 and Fraction(ballots, roll_size) * 100 >= quorum_pct
    passed = quorum_met and ballots > 0 and Fraction(counts.get(yes_option, 0), ballots) * 100 > threshold_pct
    return {
        "ballots": ballots,
        "roll_size": roll_size,
        "turnout_pct": round(100 * ballots / roll_size, 1) if roll_size else 0.0,
        "quorum_met": quorum_met,
        "passed": passed,
        "counts": {str(k): v for k, v in sorted(counts.items())} if ballots >= SMALL_VOTE else None,
    }
