"""Report periods are Shanghai calendar months, as UTC ranges."""
from datetime import datetime, timezone

import pytest

from server.errors import Invalid
from server.stats.periods import Month, month_of, parse_period

UTC = timezone.utc


def test_a_month_starts_at_midnight_in_shanghai():
    october = parse_period("2026-10")
    assert october.start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert october.end == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert (str(october), october.label, october.months) == ("2026-10", "2026年10月", 1)


@pytest.mark.parametrize("instant, month", [
    (datetime(2026, 10, 31, 16, 30, tzinfo=UTC), "2026-11"),                 # 00:30 on 1 Nov in Beijing
    (datetime(2026, 10, 31, 15, 59, 59, 999999, tzinfo=UTC), "2026-10"),
    (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "2027-01"),                  # new year in Beijing first
])
def test_month_of_an_instant(instant, month):
    assert str(month_of(instant)) == month
    assert parse_period(month).contains(instant)


def test_ranges_across_a_year():
    period = parse_period(" 2025-12..2026-01 ")
    assert (str(period), period.label, period.months) == ("2025-12..2026-01", "2025年12月至2026年1月", 2)
    assert period.start == datetime(2025, 11, 30, 16, tzinfo=UTC) and period.end == datetime(2026, 1, 31, 16, tzinfo=UTC)
    assert parse_period("2026-09..2026-10").label == "2026年9月至10月"
    assert parse_period("2026-10..2026-10") == parse_period("2026-10")


def test_at_most_24_months():
    assert parse_period("2024-11..2026-10").months == 24
    with pytest.raises(Invalid) as err:
        parse_period("2024-10..2026-10")
    assert err.value.key == "invalid_period" and err.value.status == 422


@pytest.mark.parametrize("text", ["", "abc", "2026-13", "2026-00", "2026-1", "26-10", "2026-10..", "..2026-10",
                                  "2026-10..2026-09", "2026-10..2026-11..2026-12", "0999-01", "9999-12", "２０２６-10"])
def test_bad_periods(text):
    with pytest.raises(Invalid) as err:
        parse_period(text)
    assert err.value.key == "invalid_period"


def test_month_steps():
    assert str(Month(2026, 12).next()) == "2027-01" and str(Month(2026, 1).previous()) == "2025-12"
    assert parse_period("2026-10").ended(datetime(2026, 10, 31, 16, tzinfo=UTC))
    assert not parse_period("2026-10").ended(datetime(2026, 10, 31, 15, 59, tzinfo=UTC))
