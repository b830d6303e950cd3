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
