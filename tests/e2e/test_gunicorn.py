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


def test_photos_in_a_bucket_through_gunicorn(fake_wechat, tmp_path, s3_server):
    """MEDIA_STORAGE=s3 from the environment: an upload lands in the bucket, its address answers
    a redirect to a presigned address of the bucket, and the bucket sends the bytes."""
    from tests.api.helpers import jpeg_bytes

    settings = s3_server.settings()
    env = production_env(fake_wechat, tmp_path, **settings)
    flask(env, "db", "upgrade", "heads")
    fake_wechat.add_login_code("s3-code", "s3-openid")
    with Gunicorn(env) as live:
        login = requests.post(live.base + "/api/v1/auth/login", json={"code": "s3-code"}, timeout=10)
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        res = requests.post(live.base + "/api/v1/media", headers=headers, timeout=30,
                            files={"file": ("p.jpg", jpeg_bytes(size=(300, 200)), "image/jpeg")})
        assert res.status_code == 201, res.text
        assert len(s3_server.keys(settings["S3_BUCKET"])) == 2  # the photo and its thumbnail
        first = requests.get(live.base + res.json()["url"], allow_redirects=False, timeout=10)
        assert first.status_code == 302 and first.headers["Location"].startswith(s3_server.url + "/")
        assert "X-Amz-Signature=" in first.headers["Location"]
        photo = requests.get(live.base + res.json()["url"], timeout=10)  # followed to the bucket
        assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
        assert photo.content[:2] == b"\xff\xd8"
        # Without the service's signature the service refuses before any bucket is named.
        bare = requests.get(live.base + res.json()["url"].split("?")[0], allow_redirects=False, timeout=10)
        assert bare.status_code == 404 and "Location" not in bare.headers
