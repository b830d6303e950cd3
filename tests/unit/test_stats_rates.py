"""The rates, the composite score and the ranking, without a database."""
import pytest

from server.stats.rates import DEFINITIONS, MIN_TICKETS, Counters, numbers, rank, score


def test_rates_are_fractions_and_null_without_a_denominator():
    n = numbers(Counters())
    assert (n["response_rate"], n["resolution_rate"], n["on_time_resolution_rate"], n["satisfaction_rate"]) == \
        (None, None, None, None)
    assert n["score"] is None and n["ranked"] is False and n["avg_response_hours"] is None


def test_the_bases_leave_out_what_is_not_the_units():
    c = Counters(received=10, withdrawn_early=1, responded_in_time=6, not_to_resolve=2, resolved=4,
                 resolved_on_time=3, satisfied=2, basically_satisfied=1, dissatisfied=1, unrated=2)
    n = numbers(c)
    assert (n["response_base"], n["response_rate"]) == (9, 0.6667)
    assert (n["should_resolve"], n["resolution_rate"], n["on_time_resolution_rate"]) == (8, 0.5, 0.375)
    assert (n["rated"], n["satisfaction_rate"], n["unrated"]) == (4, 0.75, 2)


def test_score_weights_and_the_minimum_per_rate():
    full = Counters(received=10, responded_in_time=10, resolved=5, satisfied=5, dissatisfied=5)
    assert score(full) == pytest.approx(0.3 * 1 + 0.4 * 0.5 + 0.3 * 0.5)
    # two ratings are too few to count: the other weights share the score
    few_ratings = Counters(received=10, responded_in_time=10, resolved=5, satisfied=2)
    assert score(few_ratings) == pytest.approx((0.3 * 1 + 0.4 * 0.5) / 0.7)
    assert numbers(few_ratings)["satisfaction_rate"] == 1.0  # shown all the same
    assert score(Counters(received=4, responded_in_time=4, resolved=4, satisfied=4)) is None
    assert MIN_TICKETS == 5


def test_counters_add_up():
    a = Counters(received=2, respond_us=10, responded=1)
    b = Counters(received=3, respond_us=20, responded=2)
    assert (a + b).received == 5 and numbers(a + b)["avg_response_hours"] == round(30 / 3 / 3.6e9, 2)


def test_competition_ranking_ranks_only_the_ranked():
    entries = [("a", 0.9, True, 10, "a"), ("b", 0.8, True, 20, "b"), ("c", 0.9, True, 30, "c"),
               ("d", 1.0, False, 1, "d"), ("e", None, False, 0, "e")]
    assert rank(entries) == {"c": 1, "a": 1, "b": 3, "d": None, "e": None}


def test_every_rate_has_a_chinese_definition():
    for key in ("response_rate", "resolution_rate", "on_time_resolution_rate", "satisfaction_rate", "score", "ranked"):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in DEFINITIONS[key])
