"""Real, unpatched wechatpy 1.8.18 talks to tests.fakes.wechat.FakeWeChat over HTTP."""
import os
import subprocess
import sys
import time

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from tests.fakes.wechat import FakeWeChat

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class StableTokenClient(WeChatClient):
    """Test-only client: wechatpy pointed at the fake, token via cgi-bin/stable_token."""

    def __init__(self, base_url, appid, secret, **kwargs):
        super().__init__(appid, secret, **kwargs)
        self._base_url = base_url
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self):
        res = self._http.post(
            self._base_url + "cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self.appid,
                  "secret": self.secret, "force_refresh": False},
            timeout=self.timeout,
        )
        res.raise_for_status()
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"),
                                        client=self, request=res.request, response=res)
        self.session.set(self.access_token_key, result["access_token"], result["expires_in"])
        self.expires_at = int(time.time()) + result["expires_in"]
        return result


@pytest.fixture
def fake():
    f = FakeWeChat().start()
    yield f
    f.stop()


@pytest.fixture
def client(fake):
    return StableTokenClient(fake.base_url, fake.appid, fake.secret, timeout=2)


def test_code_to_session_single_use_and_fail_injection(fake, client):
    fake.add_login_code("c1", "openid-1", session_key="c2Vzc2lvbmtleQ==")
    assert client.wxa.code_to_session("c1") == {"session_key": "c2Vzc2lvbmtleQ==",
                                                 "openid": "openid-1"}
    with pytest.raises(WeChatClientException) as e:
        client.wxa.code_to_session("c1")
    assert e.value.errcode == 40029

    fake.add_login_code("c2", "openid-2", unionid="union-2")
    fake.fail("sns/jscode2session", -1)
    with pytest.raises(WeChatClientException) as e:
        client.wxa.code_to_session("c2")
    assert e.value.errcode == -1
    # the fault is consumed; the code is still good
    assert client.wxa.code_to_session("c2")["unionid"] == "union-2"

    bad = StableTokenClient(fake.base_url, fake.appid, "wrong", timeout=2)
    with pytest.raises(WeChatClientException) as e:
        bad.wxa.code_to_session("whatever")  # wechatpy fetches a token first
    assert e.value.errcode == 40125


def test_phone_number_and_transparent_token_refresh(fake, client):
    fake.add_phone_code("p1", phone="13900001111")
    info = client.wxa._post("wxa/business/getuserphonenumber", data={"code": "p1"})["phone_info"]
    assert info["purePhoneNumber"] == "13900001111" == info["phoneNumber"]
    assert info["countryCode"] == "86" and info["watermark"]["appid"] == fake.appid
    assert fake.count("cgi-bin/stable_token") == 1

    fake.expire_token()  # next call gets 42001; wechatpy refetches and retries
    fake.add_phone_code("p2")
    assert client.wxa._post("wxa/business/getuserphonenumber",
                            data={"code": "p2"})["errcode"] == 0
    assert fake.count("cgi-bin/stable_token") == 2
    assert fake.count("wxa/business/getuserphonenumber") == 3

    fake.rotate_token()  # 40001 path, same transparent retry
    fake.add_phone_code("p3")
    assert client.wxa._post("wxa/business/getuserphonenumber",
                            data={"code": "p3"})["phone_info"]["purePhoneNumber"]
    assert fake.calls[-1]["query"]["access_token"] == fake.current_token

    with pytest.raises(WeChatClientException) as e:
        client.wxa._post("wxa/business/getuserphonenumber", data={"code": "p3"})
    assert e.value.errcode == 40029


def test_legacy_token_invalidates_previous(fake):
    url = fake.base_url + "cgi-bin/token"
    q = {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}
    t1 = requests.get(url, params=q, timeout=2).json()["access_token"]
    t2 = requests.get(url, params=q, timeout=2).json()["access_token"]
    assert t1 != t2 == fake.current_token
    check = fake.base_url + "wxa/media_check_async"
    body = {"media_url": "https://x/y.jpg", "media_type": 2}
    assert requests.post(check, params={"access_token": t1}, json=body,
                         timeout=2).json()["errcode"] == 40001
    assert requests.post(check, json=body, timeout=2).json()["errcode"] == 41001
    assert requests.post(check, params={"access_token": t2}, json=body,
                         timeout=2).json()["errcode"] == 0


def test_text_check_subscribe_and_http_faults(fake, client):
    fake.add_user("openid-9")
    fake.set_text_verdict("坏话", "risky")
    check = {"version": 2, "openid": "openid-9", "scene": 2}
    r = client.wxa._post("wxa/msg_sec_check", data=dict(check, content="路灯坏了"))
    assert r["result"] == {"suggest": "pass", "label": 100}
    r = client.wxa._post("wxa/msg_sec_check", data=dict(check, content="一句坏话"))
    assert r["result"] == {"suggest": "risky", "label": 20001}
    assert fake.calls[-1]["json"]["content"] == "一句坏话"

    msg = {"touser": "openid-9", "template_id": "T1", "page": "pages/index",
           "miniprogram_state": "formal", "lang": "zh_CN",
           "data": {"thing1": {"value": "路灯不亮"}, "time2": {"value": "2024-05-01 10:00"}}}
    with pytest.raises(WeChatClientException) as e:
        client.wxa._post("cgi-bin/message/subscribe/send", data=msg)
    assert e.value.errcode == 43101
    fake.grant_subscription("openid-9", "T1")
    with pytest.raises(WeChatClientException) as e:
        client.wxa._post("cgi-bin/message/subscribe/send",
                         data=dict(msg, data={"thing1": {"value": "长" * 21}}))
    assert (e.value.errcode, e.value.errmsg) == (47003, "argument invalid! data.thing1.value invalid")
    assert client.wxa._post("cgi-bin/message/subscribe/send", data=msg)["msgid"]
    assert fake.sent_messages == [msg] and fake.remaining_grants("openid-9", "T1") == 0

    fake.http_error("wxa/msg_sec_check", 502)
    with pytest.raises(WeChatClientException) as e:
        client.wxa._post("wxa/msg_sec_check", data=dict(check, content="x"))
    assert e.value.errcode is None and e.value.response.status_code == 502

    fake.delay("wxa/msg_sec_check", 0.5)
    with pytest.raises(requests.Timeout):
        client.wxa._post("wxa/msg_sec_check", data=dict(check, content="x"), timeout=0.1)

    assert requests.get(fake.base_url + "nope", timeout=2).status_code == 404


def test_runs_as_a_process():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.wechat", "--port", "0", "--codes", "k1=o1,k2=o2"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:")
        base = line.split()[1]
        r = requests.get(base + "sns/jscode2session", timeout=2, params={
            "appid": "wxfakeappid0000001", "secret": "fake-app-secret",
            "js_code": "k2", "grant_type": "authorization_code"}).json()
        assert r["openid"] == "o2"
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 0
