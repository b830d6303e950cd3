"""The access token is fetched with getStableAccessToken and shared by every process:
two processes calling WeChat at once never invalidate each other's token."""
import json
import os
import subprocess
import sys

import pytest
import redis
import sqlalchemy as sa

from server.extensions import db
from server.wechat.service import get_wechat

CALLS = 25


def _redis_url():
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return "redis://127.0.0.1:6379/15"


def _run_two(ctx, fake_wechat, database_url, redis_url=""):
    for proc in ("a", "b"):
        for i in range(CALLS):
            fake_wechat.add_phone_code(f"{proc}-{i}")
    env = dict(
        os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, APP_ENV="test",
        WECHAT_APP_ID=fake_wechat.appid, WECHAT_APP_SECRET=fake_wechat.secret,
        WECHAT_API_BASE=fake_wechat.base_url, PYTHONPATH=os.getcwd(),
    )
    fake_wechat.clear_calls()
    procs = [subprocess.Popen([sys.executable, "tests/e2e/token_client.py", p, str(CALLS)], env=env,
                              stdout=subprocess.PIPE, text=True) for p in ("a", "b")]
    results = [json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in procs]
    return results


@pytest.mark.e2e
@pytest.mark.parametrize("store", ["database", "redis"])
def test_two_processes_share_one_token(ctx, fake_wechat, database_url, store):
    redis_url = ""
    if store == "redis":
        redis_url = _redis_url()
        if redis_url is None:
            pytest.skip("no Redis on 127.0.0.1:6379")
        redis.Redis.from_url(redis_url).flushdb()
    results = _run_two(ctx, fake_wechat, database_url, redis_url)
    assert results == [{"ok": CALLS, "errors": []}, {"ok": CALLS, "errors": []}]
    # Every call went through on its first try: no token was ever refused.
    assert fake_wechat.count("wxa/business/getuserphonenumber") == 2 * CALLS
    assert fake_wechat.count("cgi-bin/token") == 0
    assert 1 <= fake_wechat.count("cgi-bin/stable_token") <= 2


def test_rotated_token_is_refetched_once_and_the_call_succeeds(ctx, fake_wechat):
    fake_wechat.add_phone_code("r-1")
    fake_wechat.add_phone_code("r-2")
    wechat = get_wechat()
    assert wechat.phone_number("r-1") == "13812341234"
    fake_wechat.rotate_token()
    fake_wechat.clear_calls()
    assert wechat.phone_number("r-2") == "13812341234"
    assert fake_wechat.count("wxa/business/getuserphonenumber") == 2  # refused once, then accepted
    assert fake_wechat.count("cgi-bin/stable_token") == 1


def test_a_token_that_keeps_failing_gives_up(ctx, fake_wechat):
    from server.errors import DomainError

    fake_wechat.add_phone_code("f-1")
    fake_wechat.fail("wxa/business/getuserphonenumber", 40001, times=10)
    fake_wechat.clear_calls()
    with pytest.raises(DomainError) as err:
        get_wechat().phone_number("f-1")
    assert err.value.status == 502
    assert fake_wechat.count("wxa/business/getuserphonenumber") == 2  # one retry, no loop


def test_redis_down_the_token_falls_back_to_the_database(ctx, fake_wechat, monkeypatch, caplog):
    from server.wechat.models import SharedValue

    monkeypatch.setitem(ctx.config, "REDIS_URL", "redis://127.0.0.1:9/0")   # nothing listens there
    ctx.extensions.pop("gongzhi.wechat", None)
    try:
        fake_wechat.add_phone_code("rd-1")
        fake_wechat.add_phone_code("rd-2")
        assert get_wechat().phone_number("rd-1") == "13812341234"
        fake_wechat.clear_calls()
        assert get_wechat().phone_number("rd-2") == "13812341234"
        assert fake_wechat.count("cgi-bin/stable_token") == 0          # the stored token was reused
        assert db.session.execute(sa.select(SharedValue.key)).scalars().all() == ["wechat:" + fake_wechat.appid + "_access_token"]
        assert "Redis unreachable" in caplog.text
    finally:
        ctx.extensions.pop("gongzhi.wechat", None)
