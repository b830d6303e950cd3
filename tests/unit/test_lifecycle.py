"""The transition table, without Flask or a database."""
import pytest

from server.tickets import lifecycle as lc
from server.tickets.lifecycle import Status as S


@pytest.mark.parametrize("action, status, roles, to", [
    ("accept", S.submitted, {"grid_worker"}, S.accepted),
    ("return", S.submitted, {"cadre"}, S.returned),
    ("transfer", S.submitted, {"grid_worker"}, S.submitted),
    ("withdraw", S.submitted, {"reporter"}, S.withdrawn),
    ("assign", S.accepted, {"deputy"}, S.assigned),
    ("propose", S.accepted, {"grid_worker"}, S.deliberating),
    ("resolve", S.accepted, {"grid_worker"}, S.resolved),
    ("assign", S.deliberating, {"deputy"}, S.assigned),
    ("return", S.deliberating, {"deputy"}, S.returned),
    ("progress", S.assigned, {"assignee"}, S.in_progress),
    ("progress", S.in_progress, {"assignee"}, S.in_progress),
    ("resolve", S.in_progress, {"assignee"}, S.resolved),
    ("transfer", S.assigned, {"assignee"}, S.submitted),
    ("close", S.resolved, {"system"}, S.closed),
])
def test_allowed_transitions(action, status, roles, to):
    assert lc.check(action, status, roles).to == to


@pytest.mark.parametrize("action, status", [
    ("accept", S.accepted), ("accept", S.closed), ("resolve", S.submitted), ("rate", S.assigned),
    ("withdraw", S.accepted), ("assign", S.submitted), ("progress", S.resolved), ("return", S.assigned),
    ("propose", S.deliberating),
])
def test_wrong_state_is_a_transition_error(action, status):
    with pytest.raises(lc.TransitionError) as err:
        lc.check(action, status, {"admin", "reporter", "assignee", "deputy"})
    assert err.value.status == 409 and not isinstance(err.value, lc.NotAllowed)


@pytest.mark.parametrize("action, status, roles", [
    ("accept", S.submitted, {"resident", "reporter"}),
    ("withdraw", S.submitted, {"cadre"}),
    ("assign", S.accepted, {"grid_worker"}),
    ("resolve", S.assigned, {"grid_worker", "cadre"}),  # only the assignee or the unit head
    ("return", S.deliberating, {"grid_worker"}),
    ("rate", S.resolved, {"resident", "cadre"}),
    ("close", S.resolved, {"admin"}),
])
def test_wrong_role_is_not_allowed(action, status, roles):
    with pytest.raises(lc.NotAllowed) as err:
        lc.check(action, status, roles)
    assert err.value.status == 403


def test_final_states_allow_nothing():
    everyone = {"reporter", "resident", "assignee", "grid_worker", "cadre", "unit_head", "deputy", "admin", "system"}
    for status in lc.FINAL:
        assert lc.allowed_actions(status, everyone) == []


def test_first_dissatisfied_rating_reopens_once():
    assert lc.after_rating("dissatisfied", 0) == S.assigned
    assert lc.after_rating("dissatisfied", 1) == S.closed
    assert lc.after_rating("satisfied", 0) == S.closed
    assert lc.after_rating("basically_satisfied", 1) == S.closed
    with pytest.raises(ValueError):
        lc.after_rating("meh", 0)


def test_allowed_actions_for_a_grid_worker_on_a_new_report():
    assert lc.allowed_actions(S.submitted, {"resident", "grid_worker"}) == ["accept", "return", "transfer"]


def test_every_status_has_a_label_and_every_rule_a_role():
    assert set(lc.STATUS_LABELS) == set(S)
    assert all(rule.roles for rule in lc.TRANSITIONS.values())
