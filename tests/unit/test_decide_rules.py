"""The rules of deciding together, without Flask or a database: the topic's stages, the
council's quorum and majority, a vote's tally."""
from fractions import Fraction

import pytest

from server.topics import rules as topic_rules
from server.topics.models import TopicStatus as T
from server.votes import rules as vote_rules
from server.workflow import NotAllowed, TransitionError


@pytest.mark.parametrize("members, present, yes, passes", [
    (9, 6, 4, True),    # two thirds present exactly, 4 of 6 yes
    (9, 6, 3, False),   # half of those present is not more than half
    (9, 5, 5, False),   # 5 of 9 present is under two thirds
    (3, 2, 2, True),    # 2 of 3 is two thirds, not 0.666...
    (0, 0, 0, False),
    (7, 7, 4, True),
])
def test_council_two_thirds_present_more_than_half_of_them(members, present, yes, passes):
    assert topic_rules.council_passes(members, present, yes) is passes


def test_council_rule_is_configurable():
    # a unit that asks a simple majority of members present and a two-thirds vote
    assert topic_rules.council_passes(10, 6, 4, Fraction(1, 2), Fraction(2, 3)) is False
    assert topic_rules.council_passes(10, 6, 5, Fraction(1, 2), Fraction(2, 3)) is True


class _Topic:
    def __init__(self, **kw):
        self.solicit_until, self.passed, self.decision, self.result = None, None, "", ""
        self.__dict__.update(kw)


def test_the_stages_in_order():
    m = topic_rules.MACHINE
    assert m.check("solicit", T.draft, {"cadre"})[0].to == T.soliciting
    assert m.check("propose", T.soliciting, {"cadre"}, _Topic())[0].to == T.proposed
    assert m.check("deliberate", T.proposed, {"deputy"})[0].to == T.deliberating
    assert m.check("put_to_residents", T.deliberating, {"unit_head"})[0].to == T.deciding
    assert m.check("decide", T.deciding, {"system"}, _Topic(passed=True))[0].to == T.decided
    assert m.check("publish_decision", T.decided, {"cadre"}, _Topic(decision="修"))[0].to == T.decision_published
    assert m.check("publish_result", T.decision_published, {"cadre"}, _Topic(result="修好"))[0].to == T.result_published
    assert m.check("close", T.result_published, {"cadre"})[0].to == T.closed


def test_guards_and_roles():
    m = topic_rules.MACHINE
    from datetime import timedelta

    from server.timeutil import utcnow

    with pytest.raises(TransitionError):  # opinions still being solicited
        m.check("propose", T.soliciting, {"cadre"}, _Topic(solicit_until=utcnow() + timedelta(days=1)))
    with pytest.raises(TransitionError):  # no decision text
        m.check("publish_decision", T.decided, {"cadre"}, _Topic())
    with pytest.raises(NotAllowed):  # a grid worker does not run deliberation
        m.check("deliberate", T.proposed, {"grid_worker"})
    with pytest.raises(TransitionError):
        m.check("publish_result", T.decided, {"cadre"}, _Topic(result="x"))
    for status in (T.closed, T.withdrawn, T.rejected):
        assert m.allowed_actions(status, {"admin", "cadre", "unit_head", "deputy"}) == []


class _Vote:
    def __init__(self, options):
        self.options = options


class _Option:
    def __init__(self, is_yes):
        self.is_yes = is_yes


def test_what_the_timers_may_also_do_is_offered_to_the_people_the_rule_names():
    """Opening and closing a vote, and deciding a topic put to the residents, are the
    organisers' as well as the timers' (an assembly's record is entered by hand)."""
    votes = vote_rules.MACHINE
    ready = _Vote([_Option(True), _Option(False)])
    assert votes.allowed_actions(vote_rules.V.draft, {"cadre"}, ready) == ["cancel", "open"]
    assert votes.allowed_actions(vote_rules.V.draft, {"cadre"}, _Vote([_Option(True)])) == ["cancel"]
    assert votes.allowed_actions(vote_rules.V.open, {"unit_head"}, ready) == ["cancel", "close"]
    assert votes.allowed_actions(vote_rules.V.open, {"grid_worker"}, ready) == []
    assert "decide" in topic_rules.MACHINE.allowed_actions(T.deciding, {"cadre"}, _Topic(passed=True))
    assert topic_rules.MACHINE.allowed_actions(T.deciding, {"system"}, _Topic(passed=True)) == []


@pytest.mark.parametrize("counts, roll, quorum, threshold, passed, shown", [
    ({1: 6, 2: 3}, 10, 50, 50, True, True),     # 90% turnout, 6 of 9 yes
    ({1: 3, 2: 3}, 10, 50, 50, False, True),    # a tie is not more than half
    ({1: 4}, 10, 50, 50, False, False),         # 40% turnout: quorum not met; 4 ballots: counts hidden
    ({1: 5}, 10, 50, 50, True, True),           # 50% turnout meets a 50% quorum
    ({}, 0, 50, 50, False, False),
])
def test_tally(counts, roll, quorum, threshold, passed, shown):
    result = vote_rules.tally(counts, 1, roll, quorum, threshold)
    assert result["passed"] is passed
    assert (result["counts"] is not None) is shown
    assert result["ballots"] == sum(counts.values())
