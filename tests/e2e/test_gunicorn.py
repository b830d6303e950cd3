"""The real gunicorn, production-style settings, the fake WeChat over HTTP."""
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

pytestmark = pytest.mark.e2e


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(fake_wechat, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="e2e-" + "s" * 40,
        FIELD_ENCRYPTION_KEYS="ZTJlLWZpZWxkLWtleS1mb3ItdGVzdHMtb25seS0xMjM=",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/e2e.sqlite3",
        DEV_LOGIN="0",
        WECHAT_APP_ID=fake_wechat.appid,
        WECHAT_APP_SECRET=fake_wechat.secret,
        WECHAT_API_BASE=fake_wechat.base_url,
        MEDIA_ROOT=str(tmp / "media"),
        FLASK_APP="server.wsgi",
        GUNICORN_WORKERS="2",
    )
    bindir = os.path.dirname(sys.executable)
    subprocess.run([os.path.join(bindir, "flask"), "db", "upgrade", "heads"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [os.path.join(bindir, "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "server.wsgi:app"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield base
    proc.terminate()
    output = proc.communicate(timeout=30)[0].decode(errors="replace")
    # Nothing secret reaches the server's log.
    assert fake_wechat.secret not in output
    assert "E2eSessionKey" not in output


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
