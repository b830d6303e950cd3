"""Answers and request bodies through server/jsonio.py read as the standard library would
write and read them."""
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from server import create_app, jsonio


@pytest.fixture()
def app(tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/j.sqlite3", "TESTING": True})


VALUES = [
    {"b": 1, "a": "路灯不亮", "c": [1.5, None, True], "d": {"z": 0, "y": "x"}},
    {2: "int keys become text", 1: -(2 ** 63)},
    {"huge": 10 ** 30, "text": "超过64位的整数"},
    {"money": Decimal("1.10"), "at": datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)},
]


@pytest.mark.parametrize("value", VALUES)
def test_answers_are_the_standard_librarys_json(app, value):
    with app.app_context():
        fast = app.json.response(value).get_data()
        app.json.compact = False  # the indented form falls back to the standard library
        slow = app.json.response(value).get_data()
    assert b"\\u" not in fast and fast.endswith(b"\n")
    assert json.loads(fast) == json.loads(slow)
    assert list(json.loads(fast)) == sorted(json.loads(fast))  # keys sorted, as Flask sorts them


@pytest.mark.parametrize("text", ['{"id": 100000000000000000000}', '[1, 2.5, "三"]', '\ufeff{"a": 1}'.encode("utf-8")[3:],
                                  '{"a": 1}'.encode("utf-16")])
def test_bodies_read_as_the_standard_library_reads_them(text):
    assert jsonio.loads(text) == json.loads(text)


def test_malformed_json_is_a_value_error():
    with pytest.raises(ValueError):
        jsonio.loads("{'single': 'quotes'}")
