"""JSON log lines and request ids, without a database."""
from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest
from flask import Flask

from server.ops import logs


@pytest.mark.parametrize("value, sane", [
    ("abc-123", True),
    ("A" * 64, True),
    ("A" * 65, False),
    ("", False),
    (None, False),
    ("has space", False),
    ("semi;colon", False),
    ("line\nbreak", False),
    ("x" * 10 + "\u4e2d", False),
])
def test_sane_request_ids(value, sane):
    assert (logs.sane_request_id(value) is not None) is sane


def _record(msg="hello %s", args=("world",), exc_info=None, **extra):
    record = logging.LogRecord("gongzhi.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_json_line_is_one_object_with_an_iso_time_and_offset():
    line = logs.JsonFormatter().format(_record(request_id="rid-1", method="GET", path="/x", status=200,
                                               duration_ms=1.5))
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "hello world" and data["level"] == "WARNING" and data["logger"] == "gongzhi.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", data["time"])
    assert (data["request_id"], data["method"], data["path"], data["status"], data["duration_ms"]) == \
        ("rid-1", "GET", "/x", 200, 1.5)


def test_a_line_outside_a_request_has_no_request_fields_and_chinese_stays_readable():
    data = json.loads(logs.JsonFormatter().format(_record("工单 %s 已超时", ("17",))))
    assert data["message"] == "工单 17 已超时"
    assert "request_id" not in data and "path" not in data


def test_a_traceback_stays_inside_the_object():
    try:
        raise ValueError("boom")
    except ValueError:
        line = logs.JsonFormatter().format(_record(exc_info=sys.exc_info()))
    assert "\n" not in line
    data = json.loads(line)
    assert "ValueError: boom" in data["exc"]


def test_the_filter_takes_the_request_id_and_the_path_without_its_query_string():
    app = Flask(__name__)
    with app.test_request_context("/api/v1/auth/login?code=SECRET-CODE&token=T", method="POST",
                                  headers={"X-Request-ID": "trace-me-1"}):
        record = _record()
        assert logs.RequestContextFilter().filter(record)
        line = logs.JsonFormatter().format(record)
    data = json.loads(line)
    assert data["request_id"] == "trace-me-1" and data["path"] == "/api/v1/auth/login" and data["method"] == "POST"
    assert "SECRET" not in line and "token=" not in line


def test_an_insane_incoming_id_is_replaced():
    app = Flask(__name__)
    with app.test_request_context("/", headers={"X-Request-ID": "x" * 100}):
        rid = logs.request_id()
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
        assert logs.request_id() == rid  # fixed for the request


def test_text_lines_for_a_terminal():
    record = _record(request_id="rid-2")
    assert "[rid-2] hello world" in logs.TextFormatter().format(record)
    assert "[-] hello world" in logs.TextFormatter().format(_record())


def test_configure_logging_installs_one_handler_and_replaces_its_own():
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    app = Flask(__name__)
    try:
        app.config.update(LOG_FORMAT="json", LOG_LEVEL="INFO")
        stream = io.StringIO()
        logs.configure_logging(app, stream)
        logs.configure_logging(app, stream)
        ours = [h for h in root.handlers if getattr(h, "_gongzhi", False)]
        assert len(ours) == 1
        logging.getLogger("gongzhi.unit").info("一行")
        assert json.loads(stream.getvalue().strip().splitlines()[-1])["message"] == "一行"
        app.config["LOG_FORMAT"] = "xml"
        with pytest.raises(ValueError):
            logs.configure_logging(app)
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_an_empty_log_format_leaves_logging_alone():
    root = logging.getLogger()
    before = list(root.handlers)
    app = Flask(__name__)
    app.config["LOG_FORMAT"] = ""
    logs.configure_logging(app)
    assert root.handlers == before
