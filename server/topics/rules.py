"""A topic's stages as a transition table (一征三议两公开), and the council's rule. Pure:
no Flask, no session."""
from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from ..workflow import SYSTEM, Machine, Rule
from .models import TopicStatus

T = TopicStatus

LABELS = {
    T.draft: "草拟", T.soliciting: "征求意见", T.proposed: "支部提议", T.deliberating: "议事会商议",
    T.deciding: "居民决策", T.decided: "已决定", T.decision_published: "决定已公开",
    T.result_published: "结果已公开", T.closed: "已办结", T.withdrawn: "已撤回", T.rejected: "未采纳",
}
OPEN = frozenset({T.draft, T.soliciting, T.proposed, T.deliberating, T.deciding})
PUBLIC = frozenset(set(T) - {T.draft})  # a draft is its unit's staff's alone

# Roles for a topic: staff posts reaching its unit, plus a seat on its council.
GRID, CADRE, HEAD, DEPUTY, ADMIN, MEMBER = "grid_worker", "cadre", "unit_head", "deputy", "admin", "member"
STAFF = frozenset({CADRE, HEAD, DEPUTY, ADMIN})
BRANCH = frozenset({CADRE, HEAD, ADMIN})      # 支部: the community's party branch and its office
COUNCIL = frozenset({HEAD, DEPUTY, ADMIN})     # who records the council's sitting

MIN_SOLICIT = timedelta(days=3)  # opinions are solicited for at least this long
MAX_SOLICIT = timedelta(days=60)


def _window_over(topic) -> str | None:
    from ..timeutil import utcnow

    if topic.solicit_until is not None and topic.solicit_until > utcnow():
        return "征求意见尚未结束"
    return None


def _decided(topic) -> str | None:
    return None if topic.passed is not None else "尚未形成决定"


def _has_decision(topic) -> str | None:
    return None if (topic.decision or "").strip() else "请填写决定内容"


def _has_result(topic) -> str | None:
    return None if (topic.result or "").strip() else "请填写实施结果"


TRANSITIONS: dict[tuple[str, TopicStatus], Rule] = {
    ("solicit", T.draft): Rule(T.soliciting, STAFF),
    ("propose", T.soliciting): Rule(T.proposed, BRANCH, _window_over),
    ("propose", T.draft): Rule(T.proposed, BRANCH),  # a matter that needs no solicitation
    ("deliberate", T.proposed): Rule(T.deliberating, BRANCH | COUNCIL),
    ("put_to_residents", T.deliberating): Rule(T.deciding, BRANCH | COUNCIL),
    ("decide", T.deliberating): Rule(T.decided, BRANCH | COUNCIL, _decided),  # the council alone decides
    ("decide", T.deciding): Rule(T.decided, BRANCH | COUNCIL | {SYSTEM}, _decided),
    ("publish_decision", T.decided): Rule(T.decision_published, BRANCH | COUNCIL, _has_decision),
    ("publish_result", T.decision_published): Rule(T.result_published, BRANCH | COUNCIL, _has_result),
    ("close", T.result_published): Rule(T.closed, BRANCH | COUNCIL),
    **{("withdraw", s): Rule(T.withdrawn, BRANCH) for s in (T.draft, T.soliciting, T.proposed)},
    **{("reject", s): Rule(T.rejected, BRANCH | COUNCIL) for s in (T.soliciting, T.proposed, T.deliberating)},
}

MACHINE = Machine("topic", TRANSITIONS, LABELS)


def council_passes(members: int, present: int, yes: int, quorum: Fraction = Fraction(2, 3),
                   majority: Fraction = Fraction(1, 2)) -> bool:
    """At least `quorum` of the members present, and more than `majority` of those present
    voting yes. Exact fractions: 2 of 3 members present is two thirds, not 0.666."""
    if members <= 0 or present <= 0:
        return False
    return Fraction(present, members) >= quorum and Fraction(yes, present) > majority
