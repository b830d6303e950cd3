"""Subscribe-message values fitted to WeChat's field rules (checked against the fake's copy
of those rules), and the retry schedule."""
import re
from datetime import datetime, timezone

import pytest

from server.notifications.delivery import backoff
from server.notifications.templates import TEMPLATES, fit, fit_bytes, message_data
from tests.fakes.wechat import _SUBSCRIBE_RULES

LONG = "小区东门口的路灯已经连续坏了三个晚上，老人晚上出门很不方便，请尽快修理"


def _accepted_by_wechat(key, value):
    kind = re.match(r"^([a-z_]+?)\d+$", key).group(1)
    rule = _SUBSCRIBE_RULES.get(kind)
    return rule is None or rule(value)


@pytest.mark.parametrize("key, value", [
    ("thing1", LONG), ("thing2", ""), ("thing3", None), ("phrase2", "已受理 (accepted)"), ("phrase3", "非常非常满意啊"),
    ("number2", "共 12 件"), ("number3", 7), ("character_string1", "GZ-2026-000123-超长的编号" * 3),
    ("letter1", "abc123"), ("symbol1", "!!!!!!!!"), ("phone_number1", "138 0013 8000 转 123"),
    ("name1", "欧阳娜娜娜娜娜娜娜娜娜"), ("time4", "2026-10-31T16:30:00+00:00"), ("date2", datetime(2026, 1, 1, tzinfo=timezone.utc)),
])
def test_fitted_values_pass_wechat_rules(key, value):
    out = fit(key, value)
    assert out.strip()
    assert _accepted_by_wechat(key, out), (key, out)


def test_thing_is_shortened_with_an_ellipsis():
    out = fit("thing1", LONG)
    assert len(out) == 20 and out.endswith("…") and out.startswith("小区东门口")


def test_times_are_shown_in_beijing_time():
    # 16:30 UTC on 31 October is 00:30 on 1 November in Beijing.
    assert fit("time4", "2026-10-31T16:30:00+00:00") == "2026年11月01日 00:30"
    assert fit("date2", "2026-10-31T16:30:00+00:00") == "2026年11月01日"


def test_phrase_keeps_chinese_only_and_five_characters():
    assert fit("phrase2", "已受理 (accepted)") == "已受理"
    assert len(fit("phrase3", "非常非常满意啊")) == 5


def test_every_template_renders_valid_data():
    payload = {"category": LONG, "status": "办理中", "unit": "花桥街道花桥社区居民委员会网格一", "time": "2026-11-01T02:00:00+00:00",
               "note": LONG, "address": LONG, "due": "2026-11-03T02:00:00+00:00", "rating": "不满意",
               "overdue": 12, "dissatisfied": 3}
    for template in TEMPLATES.values():
        for key, item in message_data(template, payload).items():
            assert _accepted_by_wechat(key, item["value"]), (template.name, key, item)


def test_wecom_text_is_cut_by_bytes():
    out = fit_bytes(LONG * 5, 128)
    assert len(out.encode()) <= 128 and out.endswith("…")
    assert fit_bytes("短", 128) == "短"


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    low = [backoff(n, base=5, cap=3600, rng=lambda: 0.0) for n in range(1, 12)]
    high = [backoff(n, base=5, cap=3600, rng=lambda: 1.0) for n in range(1, 12)]
    assert low[:4] == [2.5, 5.0, 10.0, 20.0] and high[:4] == [5.0, 10.0, 20.0, 40.0]
    assert max(high) == 3600 and all(a <= b for a, b in zip(high, high[1:]))
