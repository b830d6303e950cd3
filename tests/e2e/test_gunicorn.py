"""The real gunicorn, production-style settings, the fake WeChat over HTTP."""
import pytest
import requests

from tests.e2e.live import Gunicorn, flask, production_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(fake_wechat, tmp_path_factory):
    env = production_env(fake_wechat, tmp_path_factory.mktemp("e2e"))
    flask(env, "db", "upgrade", "heads")
    with Gunicorn(env) as live:
        yield live.base
    # Nothing secret reaches the server's log.
    assert fake_wechat.secret not in live.output
    assert "E2eSessionKey" not in live.output


def test_login_over_http(server, fake_wechat):
    fake_wechat.add_login_code("e2e-code", "e2e-openid", session_key="E2eSessionKey==")
    res = requests.post(server + "/api/v1/auth/login", json={"code": "e2e-code"}, timeout=10)
    assert res.status_code == 200
    assert "E2eSessionKey" not in res.text
    token = res.json()["token"]
    me = requests.get(server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["id"] == res.json()["user"]["id"]
    assert requests.post(server + "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 204
    assert requests.get(server + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 401


def test_dev_login_is_off_in_production(server):
    res = requests.post(server + "/api/v1/auth/login", json={"code": "dev:alice"}, timeout=10)
    assert res.status_code == 401 and res.json()["message"] == "invalid_code"


def test_wechat_outage_is_503_not_500(server, fake_wechat):
    fake_wechat.fail("sns/jscode2session", -1)
    res = requests.post(server + "/api/v1/auth/login", json={"code": "whatever"}, timeout=10)
    assert res.status_code == 503 and res.json()["message"] == "wechat_unavailable"


@pytest.mark.parametrize("accesslog", ["unset", "empty"])
def test_json_logs_hold_one_line_per_request(fake_wechat, tmp_path, accesslog):
    """deploy/gunicorn.conf.py with LOG_FORMAT=json: each request is written once, as the app's
    JSON line; gunicorn's access line is not written beside it (GUNICORN_ACCESSLOG unset or empty)."""
    import json

    env = production_env(fake_wechat, tmp_path, LOG_FORMAT="json")
    env.pop("GUNICORN_ACCESSLOG", None)
    if accesslog == "empty":
        env["GUNICORN_ACCESSLOG"] = ""
    flask(env, "db", "upgrade", "heads")
    requests_made = [("GET", "/api/v1/units/locate?lat=30.57&lng=114.27"), ("GET", "/api/v1/categories"),
                     ("POST", "/api/v1/auth/login"), ("GET", "/api/v1/no-such-thing"), ("GET", "/api/v1/tickets/1")]
    sent = []
    with Gunicorn(env) as live:
        for round_ in range(4):
            for n, (method, path) in enumerate(requests_made):
                rid = f"one-line-{accesslog}-{round_}-{n}"
                res = requests.request(method, live.base + path, json={"code": "x"} if method == "POST" else None,
                                       headers={"X-Request-ID": rid}, timeout=10)
                assert res.headers["X-Request-ID"] == rid
                sent.append((rid, path.split("?")[0], res.status_code))
    lines = [json.loads(line) for line in live.output.splitlines() if line.strip()]  # every line is JSON
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]
    for rid, path, status in sent:
        mine = [line for line in lines if rid in json.dumps(line)]
        assert len(mine) == 1, (rid, mine)
        assert mine[0]["logger"] == "gongzhi.request" and mine[0]["path"] == path and mine[0]["status"] == status
    requests_seen = [line for line in lines if line["logger"] == "gongzhi.request"]
    assert len(requests_seen) == len(sent)  # the readiness probes are logged below INFO
