"""The ticket lifecycle (四题四单) as a transition table. Pure Python: no Flask, no session.

An action is allowed when the table has a rule for (action, current status), its guard
(if any) agrees, and the actor holds one of the rule's roles for this ticket. A missing
rule or a refusing guard is an invalid transition (409); a rule the actor may not use is
forbidden (403). The table is a workflow.Machine, whose operations alone write a ticket.
"""
from __future__ import annotations

import enum

from ..workflow import SAME, SYSTEM, Machine, NotAllowed, Rule, TransitionError  # noqa: F401  (the table's API)


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
REPORTER, RESIDENT, ASSIGNEE = "reporter", "resident", "assignee"
GRID, CADRE, HEAD, DEPUTY, ADMIN = "grid_worker", "cadre", "unit_head", "deputy", "admin"

FIRST_RESPONDERS = frozenset({GRID, CADRE, HEAD, ADMIN})
TASKERS = frozenset({CADRE, HEAD, DEPUTY, ADMIN})
COUNCIL = frozenset({DEPUTY, HEAD, ADMIN})
HANDLERS = frozenset({ASSIGNEE, HEAD, ADMIN})

RETURN_REASONS = ("out_of_scope", "duplicate", "needs_info", "invalid", "not_adopted")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


MODERATORS = frozenset({GRID, CADRE, HEAD, ADMIN})


def _held(ticket) -> str | None:
    if not ticket.held or getattr(ticket, "hidden", False):
        return "该问题不在审核队列中"
    return None


def _escalatable(ticket) -> str | None:
    """Only public reports climb to the unit above: a held one waits for moderation (its
    time limits start when it is approved), a hidden one is out of every count."""
    if ticket.held or ticket.hidden:
        return "待审核或已隐藏的问题不督办"
    if ticket.overdue:
        return "已在督办中"
    return None


def _linked(ticket) -> str | None:
    return None if ticket.reporter_id is not None else "已与反映人解除关联"


S = Status
TRANSITIONS: dict[tuple[str, Status], Rule] = {
    ("accept", S.submitted): Rule(S.accepted, FIRST_RESPONDERS),
    ("return", S.submitted): Rule(S.returned, FIRST_RESPONDERS),
    ("return", S.deliberating): Rule(S.returned, COUNCIL),
    # Its topic was decided against (or withdrawn): closed with the published decision.
    ("decline", S.deliberating): Rule(S.returned, frozenset({SYSTEM})),
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
    ("rate", S.resolved): Rule(None, frozenset({REPORTER}), may_reach=frozenset({S.closed, S.assigned})),
    ("close", S.resolved): Rule(S.closed, frozenset({SYSTEM})),
    # Moderation: a held report is approved (public from then on) or hidden (returned as invalid).
    **{("approve", status): Rule(SAME, MODERATORS, _held, refusal_key="not_held") for status in OPEN},
    **{("hide", status): Rule(S.returned, MODERATORS, _held, refusal_key="not_held") for status in OPEN},
    # 督办: past a time limit, the unit above supervises.
    **{("escalate", status): Rule(SAME, frozenset({SYSTEM}), _escalatable) for status in OPEN},
    # Retention: a closed ticket loses the link to its reporter; a deleted account, to all of them.
    **{("erase", status): Rule(SAME, frozenset({SYSTEM}), _linked) for status in FINAL},
    **{("anonymise", status): Rule(SAME, frozenset({SYSTEM}), _linked) for status in Status},
}

MACHINE = Machine("ticket", TRANSITIONS, STATUS_LABELS)
ACTIONS = MACHINE.actions


def check(action: str, status: Status, roles: set[str] | frozenset[str], ticket=None) -> Rule:
    """The rule for this action now, or TransitionError (wrong state) / NotAllowed (wrong role)."""
    return MACHINE.check(action, Status(status), roles, ticket)[0]


def allowed_actions(status: Status, roles: set[str] | frozenset[str], ticket=None) -> list[str]:
    """The actions these roles may take now, sorted by name."""
    return MACHINE.allowed_actions(Status(status), roles, ticket)


def after_rating(rating: str, redo_count: int) -> Status:
    """The reporter's first dissatisfied rating reopens the ticket once (重办); any other closes it."""
    if rating not in RATINGS:
        raise ValueError(rating)
    return Status.assigned if rating == "dissatisfied" and redo_count == 0 else Status.closed
