"""Times as the database's JSON objects answer them, written as answers show them."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from server.sqljson import utc, utc_iso


def _random_times(n: int):
    rng = random.Random(20261202)
    start = datetime(2000, 1, 1)
    for _ in range(n):
        value = start + timedelta(seconds=rng.randrange(0, 40 * 365 * 86400))
        yield value.replace(microsecond=rng.choice((0, rng.randrange(1, 1_000_000))))


def test_a_time_with_microseconds_reads_as_isoformat_writes_it():
    for value in _random_times(5000):
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")  # MariaDB DATETIME(6), SQLite via SQLAlchemy
        assert utc_iso(text) == value.replace(tzinfo=timezone.utc).isoformat() == utc(text).isoformat()


@pytest.mark.parametrize("text, shown", [
    ("2026-11-23 02:30:00.000000", "2026-11-23T02:30:00+00:00"),
    ("2026-11-23 02:30:00.000100", "2026-11-23T02:30:00.000100+00:00"),
    ("2026-11-23 02:30:00", "2026-11-23T02:30:00+00:00"),  # a time written without a fraction
    ("2026-11-23 02:30:00.5", "2026-11-23T02:30:00.500000+00:00"),
    ("2026-11-23T02:30:00.250000", "2026-11-23T02:30:00.250000+00:00"),
])
def test_every_form_of_a_stored_time_reads_as_its_utc_isoformat(text, shown):
    assert utc_iso(text) == shown
