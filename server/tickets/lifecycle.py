"""The ticket lifecycle (四题四单) as a transition table. Pure Python: no Flask, no session.

An action is allowed when the table has a rule for (action, current status) and the
actor holds one of the rule's roles for this ticket. A missing rule is an invalid
transition (409); a rule the actor may not use is forbidden (403).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(str, enum.Enum):
    submitted = "submitted"        # 待受理: a resident reported
    accepted = "accepted"          # 已受理: the unit responded
    deliberating = "deliberating"  # 议题中: with the deputies or the council
    assigned = "assigned"          # 已派单: a task with an assignee and a deadline
    in_progress = "in_progress"    # 办理中: the assignee posted progress
    resolved = "resolved"          # 已办结: answered, waiting for the rating
    closed = "closed"              # 已关闭: rated, or unrated past the rating window
    returned = "returned"          # 已退回: out of scope, duplicate, needs info, invalid, not adopted
    withdrawn = "withdrawn"        # 已撤回: by the reporter


STATUS_LABELS = {
    Status.submitted: "待受理",
    Status.accepted: "已受理",
    Status.deliberating: "议题中",
    Status.assigned: "已派单",
    Status.in_progress: "办理中",
    Status.resolved: "已办结",
    Status.closed: "已关闭",
    Status.returned: "已退回",
    Status.withdrawn: "已撤回",
}

OPEN = frozenset({Status.submitted, Status.accepted, Status.deliberating, Status.assigned, Status.in_progress})
FINAL = frozenset({Status.closed, Status.returned, Status.withdrawn})

# Roles an actor can hold for one ticket. Staff roles count only within the unit's scope.
REPORTER, RESIDENT, ASSIGNEE, SYSTEM = "reporter", "resident", "assignee", "system"
GRID, CADRE, HEAD, DEPUTY, ADMIN = "grid_worker", "cadre", "unit_head", "deputy", "admin"

FIRST_RESPONDERS = frozenset({GRID, CADRE, HEAD, ADMIN})
TASKERS = frozenset({CADRE, HEAD, DEPUTY, ADMIN})
COUNCIL = frozenset({DEPUTY, HEAD, ADMIN})
HANDLERS = frozenset({ASSIGNEE, HEAD, ADMIN})

RETURN_REASONS = ("out_of_scope", "duplicate", "needs_info", "invalid", "not_adopted")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


@dataclass(frozen=True)
class Rule:
    to: Status | None  # None: decided by the operation (rate: closed, or assigned for a redo)
    roles: frozenset[str]


S = Status
TRANSITIONS: dict[tuple[str, Status], Rule] = {
    ("accept", S.submitted): Rule(S.accepted, FIRST_RESPONDERS),
    ("return", S.submitted): Rule(S.returned, FIRST_RESPONDERS),
    ("return", S.deliberating): Rule(S.returned, COUNCIL),
    ("transfer", S.submitted): Rule(S.submitted, FIRST_RESPONDERS),
    ("transfer", S.assigned): Rule(S.submitted, HANDLERS | {CADRE}),
    ("transfer", S.in_progress): Rule(S.submitted, HANDLERS | {CADRE}),
    ("withdraw", S.submitted): Rule(S.withdrawn, frozenset({REPORTER})),
    ("assign", S.accepted): Rule(S.assigned, TASKERS),
    ("assign", S.deliberating): Rule(S.assigned, COUNCIL),
    ("propose", S.accepted): Rule(S.deliberating, FIRST_RESPONDERS | {DEPUTY}),
    ("resolve", S.accepted): Rule(S.resolved, FIRST_RESPONDERS),
    ("resolve", S.assigned): Rule(S.resolved, HANDLERS),
    ("resolve", S.in_progress): Rule(S.resolved, HANDLERS),
    ("progress", S.assigned): Rule(S.in_progress, HANDLERS | {CADRE}),
    ("progress", S.in_progress): Rule(S.in_progress, HANDLERS | {CADRE}),
    ("rate", S.resolved): Rule(None, frozenset({REPORTER})),
    ("close", S.resolved): Rule(S.closed, frozenset({SYSTEM})),
}

ACTIONS = tuple(sorted({action for action, _ in TRANSITIONS}))


class TransitionError(Exception):
    status = 409
    key = "invalid_transition"


class NotAllowed(TransitionError):
    status = 403
    key = "forbidden"


def check(action: str, status: Status, roles: set[str] | frozenset[str]) -> Rule:
    """The rule for this action now, or TransitionError (wrong state) / NotAllowed (wrong role)."""
    rule = TRANSITIONS.get((action, Status(status)))
    if rule is None:
        raise TransitionError(f"{action} is not possible from {Status(status).value}")
    if not (set(roles) & rule.roles):
        raise NotAllowed(f"{action} from {Status(status).value} needs one of {sorted(rule.roles)}")
    return rule


def _actions_by_status() -> dict[Status, tuple[tuple[str, frozenset[str]], ...]]:
    """Per status, the actions people may take from it and who may: the table read once."""
    found: dict[Status, list[tuple[str, frozenset[str]]]] = {status: [] for status in Status}
    for (action, status), rule in sorted(TRANSITIONS.items(), key=lambda item: item[0][0]):
        if SYSTEM not in rule.roles:
            found[status].append((action, frozenset(rule.roles)))
    return {status: tuple(pairs) for status, pairs in found.items()}


_ACTIONS_FROM = _actions_by_status()


def allowed_actions(status: Status, roles: set[str] | frozenset[str]) -> list[str]:
    """The actions these roles may take now, sorted by name."""
    return [action for action, who in _ACTIONS_FROM[Status(status)] if not who.isdisjoint(roles)]


def after_rating(rating: str, redo_count: int) -> Status:
    """The reporter's first dissatisfied rating reopens the ticket once (重办); any other closes it."""
    if rating not in RATINGS:
        raise ValueError(rating)
    return Status.assigned if rating == "dissatisfied" and redo_count == 0 else Status.closed
